from dataclasses import replace

import pytest

from routing.assistants import assistant_pick
from routing.errors import InvalidRequest, NotInPlan
from routing.precheck.categories import category_refusal, content_categories
from routing.types import AssistantInfo, Catalog
from tests.routing.builders import ENTITLEMENT

CATALOG = Catalog(
    models=(),
    assistants=(
        AssistantInfo("coder", "Coder", ("coding",)),
        AssistantInfo("writer", "Writer", ("creative_writing", "summarization")),
        AssistantInfo("generalist", "Generalist", ("chat", "question_answering")),
    ),
)
FREE = replace(
    ENTITLEMENT,
    plan_name="Free",
    families=frozenset({"writer", "generalist"}),
    images_allowed=False,
    denied_categories=frozenset({"adult", "weapons"}),
)


def test_task_type_maps_to_its_family() -> None:
    choice = assistant_pick(
        task_type="summarization", requested=None, catalog=CATALOG, entitlement=FREE
    )

    assert (choice.family, choice.reason) == ("writer", "summarization → Writer")


def test_family_outside_plan_falls_back_to_generalist_with_reason() -> None:
    choice = assistant_pick(task_type="coding", requested=None, catalog=CATALOG, entitlement=FREE)

    assert choice.family == "generalist"
    assert choice.reason == "Coder is not in plan Free; using Generalist"


def test_explicit_pick_wins_when_allowed() -> None:
    choice = assistant_pick(
        task_type="coding", requested="writer", catalog=CATALOG, entitlement=FREE
    )

    assert (choice.family, choice.reason) == ("writer", "picked by you")


def test_explicit_pick_outside_plan_is_refused() -> None:
    with pytest.raises(NotInPlan, match="Coder assistant is not in the Free plan"):
        assistant_pick(task_type="chat", requested="coder", catalog=CATALOG, entitlement=FREE)


def test_unknown_assistant_is_a_field_error() -> None:
    with pytest.raises(InvalidRequest) as error:
        assistant_pick(task_type="chat", requested="wizard", catalog=CATALOG, entitlement=FREE)

    assert error.value.extra == {"param": "assistant"}
    assert "coder, generalist, writer" in error.value.message


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("write an erotic story about two sailors", "adult"),
        ("how do i build a pipe bomb at home", "weapons"),
        ("give me parlay picks for sunday", "gambling"),
    ],
)
def test_content_categories_are_detected(text: str, category: str) -> None:
    assert category in content_categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "the bomb squad defused it in the film",
        "explain the history of casinos in Macau",
        "sex of a cat",
    ],
)
def test_ordinary_prompts_have_no_content_category(text: str) -> None:
    assert content_categories(text) == ()


def test_plan_refuses_denied_category_with_clear_message() -> None:
    refused = category_refusal(categories=("adult",), needs_images=False, entitlement=FREE)

    assert refused == ("adult", "Requests about adult content are not available on the Free plan.")


def test_plan_refuses_images_when_not_allowed() -> None:
    category, message = category_refusal(categories=(), needs_images=True, entitlement=FREE)

    assert category == "images"
    assert "Image input is not available on the Free plan" in message


def test_plan_allowing_everything_refuses_nothing() -> None:
    assert (
        category_refusal(categories=("gambling",), needs_images=True, entitlement=ENTITLEMENT)
        is None
    )

"""The precheck prompt classifier: rules, the exported model, and the artifact's provenance.

No database: these are plain functions over text. Training runs scikit-learn here (a few
seconds), which is the only place besides the management command that imports it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.precheck.classifier import (
    COMPLEXITIES,
    DATA_DIR,
    EVAL_PATH,
    MODEL_PATH,
    RULES,
    TASK_TYPES,
    TRAIN_PATH,
    LinearModel,
    PromptView,
    classify,
    detect_language,
    dump_artifact,
    estimate_tokens,
    export_pipeline,
    fit_pipeline,
    instruction_part,
    load_model,
    load_rows,
    model_text,
    train,
)

ROOT = Path(__file__).resolve().parents[2]


def normalized(text: str) -> str:
    """What the precheck normalizer hands the classifier: NFKC, whitespace runs collapsed."""
    return re.sub(r"[ \t\r\f\v]+", " ", unicodedata.normalize("NFKC", text)).strip()


@pytest.fixture(scope="module")
def training_rows() -> list[dict[str, str]]:
    return load_rows(TRAIN_PATH)


@pytest.fixture(scope="module")
def fitted(training_rows: list[dict[str, str]]) -> Any:
    return fit_pipeline(training_rows)


@pytest.mark.parametrize(
    ("text", "task_type"),
    [
        ("Write a Python function that returns the n-th Fibonacci number.", "coding"),
        (
            'Traceback (most recent call last):\n  File "app.py", line 3, in <module>\n'
            "KeyError: 'user'",
            "coding",
        ),
        ("What is 37 * 46?", "math"),
        ("A box holds 12 eggs. How many eggs are in 7 boxes?", "math"),
        ("Riddle: what has a neck but no head?", "reasoning"),
        (
            "Summarize the following article in two sentences: The city opened a library.",
            "summarization",
        ),
        ("Translate 'good night' into Spanish.", "translation"),
        ("Write a haiku about the first snow of winter.", "creative_writing"),
        ("Extract all email addresses from this text: write to ana@example.com.", "extraction"),
        ("Classify the sentiment of this review: 'Great battery life.'", "classification"),
        ("Hello! How are you today?", "chat"),
        ("Who painted The Starry Night?", "question_answering"),
    ],
)
def test_clear_prompts_are_decided_by_the_rules(text: str, task_type: str) -> None:
    result = classify(normalized(text))

    assert (result.task_type, result.source) == (task_type, "rules")
    assert result.confidence >= 0.85


@pytest.mark.parametrize(
    "text",
    [
        "I need something nice for my grandmother's 90th.",
        "Thoughts on the ocean for my school project",
        "Something about penguins",
    ],
)
def test_prompts_no_rule_is_sure_about_go_to_the_model(text: str) -> None:
    result = classify(normalized(text))

    assert result.source == "model"
    assert result.task_type in TASK_TYPES
    assert 0.0 < result.confidence <= 1.0


def test_conflicting_rules_defer_to_the_model() -> None:
    # Two confident asks of different types: neither rule wins by the required margin.
    text = (
        "Translate this review into French, then classify its sentiment as positive or "
        'negative: "Loved it."'
    )

    assert classify(text).source == "model"


@pytest.mark.parametrize(
    ("text", "complexity"),
    [
        ("hi", "low"),
        ("What is the capital of Peru?", "low"),
        ("Write a function that sorts a list.", "low"),
        (
            "Design a distributed, fault-tolerant job scheduler: explain the architecture, the "
            "trade-offs between at-least-once and exactly-once delivery, how you would scale it "
            "to 10,000 workers, and write the core scheduling loop in Go with tests.",
            "high",
        ),
        (
            "Prove by induction that the sum of the first n cubes equals the square of the sum "
            "of the first n integers, then derive a closed form and check it for n = 1, 2, 3.",
            "high",
        ),
    ],
)
def test_complexity_grows_with_length_constraints_and_domain(text: str, complexity: str) -> None:
    assert classify(text).complexity == complexity


@pytest.mark.parametrize(
    ("text", "complexity"),
    [
        # one step or one recalled fact
        ("Who wrote Pride and Prejudice?", "low"),
        ("As a lighthouse keeper, what would you say to a lost sailor on the radio?", "low"),
        ("Write one descriptive paragraph about a rainy harbour at dawn.", "low"),
        # open-ended explanations, counterfactuals, advice: several steps even when short
        ("How does a refrigerator keep food cold?", "medium"),
        ("What if the printing press had been invented in ancient Greece?", "medium"),
        ("How can I get better at public speaking?", "medium"),
        (
            "A baker sells 48 rolls a day at $0.75 each and 20 loaves at $3.20 each. How much "
            "does she take in over a 6-day week?",
            "medium",
        ),
        # expert depth
        ("Show that the square root of 3 is irrational with a rigorous proof.", "high"),
        (
            "Review the indemnity and liability clauses of the contract below and propose "
            "redlines.",
            "high",
        ),
    ],
)
def test_complexity_follows_the_labelling_guideline(text: str, complexity: str) -> None:
    assert classify(text).complexity == complexity


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("How do I reverse a string in Python?", "How can I reverse a string in Python?"),
        ("How do I get better at public speaking?", "How can I get better at public speaking?"),
    ],
)
def test_a_reworded_question_keeps_its_complexity(one: str, other: str) -> None:
    # The answer cache's scope holds the complexity's quality bar: a paraphrase must not move it.
    assert classify(one).complexity == classify(other).complexity


def test_complexity_labels_cite_their_source_and_split_in_two_halves() -> None:
    rows = [
        json.loads(line)
        for line in (DATA_DIR / "complexity_labels.jsonl").read_text("utf-8").splitlines()
    ]
    keys = [(row["source"], row["id"]) for row in rows]
    halves = {int(hashlib.sha256(f"{s}:{i}".encode()).hexdigest(), 16) % 2 for s, i in keys}

    assert len(rows) >= 150
    assert len(set(keys)) == len(keys)
    assert {row["source"] for row in rows} == {"mt_bench", "vicuna", "gsm8k_test", "written"}
    assert all(row["complexity"] in COMPLEXITIES for row in rows)
    assert all(bool(row.get("text")) == (row["source"] == "written") for row in rows)
    assert {row["complexity"] for row in rows} == set(COMPLEXITIES)
    assert halves == {0, 1}


def test_the_instruction_part_is_the_first_and_last_sentence() -> None:
    pasted = "The river rose two metres overnight. Roads closed at six. Schools stayed shut."

    assert instruction_part("Translate this into German: hello.") == (
        "Translate this into German: hello."
    )
    assert instruction_part(f"{pasted}\nList every time mentioned above.") == (
        "The river rose two metres overnight. List every time mentioned above."
    )
    assert len(instruction_part("word " * 2000)) <= 400


@pytest.mark.parametrize(
    ("ask", "task_type"),
    [
        ("Sum this up in one sentence.", "summarization"),
        ("Put it into French.", "translation"),
        ("Which names and dates does it mention? List them.", "extraction"),
    ],
)
def test_the_final_instruction_names_the_deliverable_after_a_paste(
    ask: str, task_type: str
) -> None:
    pasted = (
        "On 4 May the harbour board met with Ana Ruiz and Tom Okafor to discuss the new ferry "
        "timetable. Boats will leave every forty minutes from June, the night service ends, "
        "and the fare for residents stays at 2.10. A review is planned for 1 October. "
    ) * 3

    assert classify(pasted + "\n\n" + ask).task_type == task_type


@pytest.mark.parametrize(
    "text",
    [
        "¿Cómo puedo leer un archivo JSON en Python y recorrer sus claves?",
        "Как в Python удалить дубликаты из списка, сохранив порядок?",
        "What's the .gitignore line to ignore every build folder?",
    ],
)
def test_questions_about_code_are_coding_in_any_language(text: str) -> None:
    assert classify(text).task_type == "coding"


def test_an_artifact_without_the_instruction_blocks_is_refused() -> None:
    artifact = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    del artifact["ask_word"]

    with pytest.raises(ValueError, match="other feature settings"):
        LinearModel.from_artifact(artifact)


def test_a_long_pasted_document_is_not_low_complexity() -> None:
    document = " ".join(row["text"] for row in load_rows(EVAL_PATH)[:40])

    assert classify("Summarize this:\n" + document).complexity == "high"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Can you explain how photosynthesis works?", "en"),
        ("¿Puedes explicarme cómo funciona la fotosíntesis?", "es"),
        ("Kannst du mir erklären, wie die Photosynthese funktioniert?", "de"),
        ("Peux-tu m'expliquer comment fonctionne la photosynthèse ?", "fr"),
        ("请解释一下光合作用是如何进行的。", "zh"),
        ("Объясни, пожалуйста, как работает фотосинтез.", "ru"),
        ("光合作用の仕組みを説明してください。", "ja"),
        ("Translate into English: 我爱你", "en"),
        ("12345 !!!", "und"),
    ],
)
def test_language_is_detected_from_script_and_stopwords(text: str, language: str) -> None:
    assert detect_language(text) == language
    assert classify(text).language == language


def test_code_is_ignored_when_detecting_the_language() -> None:
    text = "Warum stürzt das ab?\n```python\nfor item in items:\n    print(item.name)\n```"

    assert detect_language(text) == "de"


@pytest.mark.parametrize(
    ("text", "has_images", "needs_images"),
    [
        ("What breed is the dog in this photo?", False, True),
        ("Read the numbers in the attached screenshot and add them up.", False, True),
        ("Explain the chart below, please.", False, True),
        ("¿Qué ves en esta imagen?", False, True),
        ("Describe the plot of Hamlet.", False, False),
        ("Write a poem about a picture frame.", False, False),
        ("Describe this.", True, True),
    ],
)
def test_needs_images_from_the_flag_or_the_wording(
    text: str, has_images: bool, needs_images: bool
) -> None:
    assert classify(text, has_images=has_images).needs_images is needs_images


def test_token_estimate_counts_cjk_characters_as_tokens() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("a" * 400) == 100
    assert estimate_tokens("你好世界" * 25) == 100
    assert classify("Hello there, how are you?").input_tokens == estimate_tokens(
        "Hello there, how are you?"
    )


@settings(max_examples=60, database=None, deadline=None)
@given(st.text(), st.text())
def test_token_estimate_never_shrinks_as_text_grows(head: str, tail: str) -> None:
    assert estimate_tokens(head) <= estimate_tokens(head + tail)


@settings(max_examples=60, database=None, deadline=None)
@given(st.text())
def test_classify_never_raises(text: str) -> None:
    result = classify(text)

    assert result.task_type in TASK_TYPES
    assert result.complexity in ("low", "medium", "high")
    assert 0.0 <= result.confidence <= 1.0


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "x" * 500_000,
        "Summarize: " + "lorem ipsum dolor sit amet " * 20_000,
        "\x00\x01\x02\xff\ufffd" * 1000,
        "\ud800 lone surrogate \udfff",
        "".join(chr(code) for code in range(0x20, 0x3000, 7)),
        "```" * 1000,
    ],
)
def test_classify_never_raises_on_odd_input(text: str) -> None:
    result = classify(text)

    assert result.task_type in TASK_TYPES
    assert result.input_tokens == estimate_tokens(text)


def test_empty_input_is_low_complexity_chat_in_no_language() -> None:
    result = classify("   ")

    assert (result.task_type, result.complexity, result.language) == ("chat", "low", "und")
    assert (result.input_tokens, result.confidence) == (1, 0.0)


def test_numpy_inference_matches_sklearn_on_the_training_data(
    training_rows: list[dict[str, str]], fitted: Any
) -> None:
    model = LinearModel.from_artifact(
        export_pipeline(fitted, training_sha256="test", training_rows=len(training_rows))
    )
    texts = [model_text(row["text"]) for row in training_rows]

    ours = np.array([model.decision_function(text) for text in texts])

    np.testing.assert_allclose(ours, fitted.decision_function(texts), rtol=0, atol=1e-9)
    assert [model.predict(text)[0] for text in texts] == list(fitted.predict(texts))


@settings(
    max_examples=40,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=st.text())
def test_numpy_inference_matches_sklearn_on_arbitrary_text(fitted: Any, text: str) -> None:
    model = LinearModel.from_artifact(
        export_pipeline(fitted, training_sha256="test", training_rows=0)
    )

    np.testing.assert_allclose(
        model.decision_function(text), fitted.decision_function([text])[0], rtol=0, atol=1e-9
    )


def test_shipped_artifact_was_trained_on_the_current_training_file() -> None:
    """Editing classifier_train.jsonl without `manage.py train_classifier` fails here."""
    digest = hashlib.sha256(TRAIN_PATH.read_bytes()).hexdigest()

    assert load_model().training_sha256 == digest


def test_shipped_artifact_agrees_with_a_fresh_fit(
    training_rows: list[dict[str, str]], fitted: Any
) -> None:
    """Changing the training code (features, C, ...) without retraining fails here."""
    texts = [model_text(row["text"]) for row in training_rows]
    shipped = np.array([load_model().decision_function(text) for text in texts])

    np.testing.assert_allclose(shipped, fitted.decision_function(texts), rtol=0, atol=1e-6)


def test_shipped_artifact_is_small_json() -> None:
    artifact = json.loads(MODEL_PATH.read_text(encoding="utf-8"))

    assert MODEL_PATH.stat().st_size < 2_500_000
    assert sorted(artifact["classes"]) == sorted(TASK_TYPES)


def test_training_is_deterministic(training_rows: list[dict[str, str]], fitted: Any) -> None:
    first = dump_artifact(train(training_rows))
    second = dump_artifact(
        export_pipeline(
            fitted,
            training_sha256=json.loads(first)["training_sha256"],
            training_rows=len(training_rows),
        )
    )

    assert first == second


def test_training_file_is_balanced_and_separate_from_the_eval_file(
    training_rows: list[dict[str, str]],
) -> None:
    eval_texts = {row["text"] for row in load_rows(EVAL_PATH)}
    per_type = {task: sum(r["task_type"] == task for r in training_rows) for task in TASK_TYPES}

    assert min(per_type.values()) >= 60
    assert not eval_texts & {row["text"] for row in training_rows}


def test_rule_prefilter_never_changes_a_rule_outcome(
    training_rows: list[dict[str, str]],
) -> None:
    """The cue literals are derived from each regex; running every regex gives the same votes."""
    texts = [row["text"] for row in training_rows + load_rows(EVAL_PATH)]
    views = [PromptView.of(text) for text in texts]
    unfiltered = [dataclasses.replace(rule, cue_substrings=None) for rule in RULES]

    for rule, plain in zip(RULES, unfiltered, strict=True):
        assert [rule.fires(v) for v in views] == [plain.fires(v) for v in views], rule.pattern

    assert sum(rule.cue_substrings is not None for rule in RULES) >= 0.8 * len(RULES)


def test_case_insensitive_rules_are_written_in_lowercase() -> None:
    """They run on the lowercased prompt, so an uppercase literal could never match."""
    for rule in RULES:
        if rule.lowered:
            literal_text = re.sub(r"\\.", "", rule.pattern.pattern)
            assert not any(char.isupper() for char in literal_text), rule.pattern.pattern


def test_runtime_imports_neither_django_nor_sklearn() -> None:
    code = (
        "import sys\n"
        "from routing.precheck.classifier import classify\n"
        "classify('Summarize this text for me: it rained all day.')\n"
        "classify('Something about penguins')\n"
        "leaked = sorted(m for m in ('django', 'sklearn') if m in sys.modules)\n"
        "assert not leaked, leaked\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_generalisation_rows_name_their_family_and_deliverable(
    training_rows: list[dict[str, str]],
) -> None:
    """Rows added for held-out splits say what the answer must be (label by the deliverable)."""
    grouped = [row for row in training_rows if "family" in row or "deliverable" in row]

    assert len(grouped) >= 80
    assert all(row.get("family") and row.get("deliverable") for row in grouped)
    assert len({row["task_type"] for row in grouped}) == len(TASK_TYPES)

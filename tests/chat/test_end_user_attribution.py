"""Attribution: a billed call records the member, the API key and the customer's own end
user, from /v1's `user` field or the X-Switchboard-End-User header (optional, length-limited)."""

from __future__ import annotations

import httpx
import pytest

from tests.chat.conftest import Live
from usage.models import ModelCall

MESSAGES = [{"role": "user", "content": "Say something kind about Mondays."}]


def v1(live: Live, headers: dict[str, str] | None = None, **body: object) -> httpx.Response:
    return httpx.post(
        f"{live.url}/v1/chat/completions",
        json={"model": "auto", "messages": MESSAGES, **body},
        headers=live.headers(**(headers or {})),
        timeout=30,
    )


def test_v1_user_field_is_recorded_with_the_member_and_key(live: Live) -> None:
    response = v1(live, user="customer-42")

    assert response.status_code == 200
    [call] = ModelCall.objects.for_org(live.tenant.org)
    assert call.end_user == "customer-42"
    assert call.user_id == live.tenant.owner.pk
    assert call.api_key_id == live.tenant.key.pk
    assert call.usage.display_units > 0


def test_the_header_attributes_clients_that_cannot_set_user(live: Live) -> None:
    v1(live, headers={"X-Switchboard-End-User": "visitor-7"})
    v1(live, headers={"X-Switchboard-End-User": "ignored"}, user="from-body")
    v1(live)
    api = httpx.post(
        f"{live.url}/api/ai/chat",
        json={"message": "Say something kind about Tuesdays.", "stream": False},
        headers=live.headers(**{"X-Switchboard-End-User": "api-visitor"}),
        timeout=30,
    )

    assert api.status_code == 200, api.text
    calls = ModelCall.objects.for_org(live.tenant.org).order_by("pk")
    assert [c.end_user for c in calls] == ["visitor-7", "from-body", "", "api-visitor"]


@pytest.mark.parametrize(
    ("headers", "body", "param"),
    [
        ({}, {"user": "u" * 129}, "user"),
        ({"X-Switchboard-End-User": "h" * 129}, {}, "X-Switchboard-End-User"),
    ],
)
def test_an_overlong_end_user_is_refused_naming_the_field_and_bills_nothing(
    live: Live, headers: dict[str, str], body: dict[str, object], param: str
) -> None:
    response = v1(live, headers=headers, **body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param and "128" in error["message"]
    assert not ModelCall.objects.for_org(live.tenant.org).exists()

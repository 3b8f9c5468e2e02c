"""How a `/v1` answer ended is always said: finish_reason, an error in OpenAI's shape, never a
silent "stop" for a cut answer."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.chat.conftest import Live
from usage.models import CallStatus, ModelCall

PROMPT = "Tell me something cheerful about the weather today."


def v1(live: Live, **body: object) -> httpx.Response:
    payload = {"model": "auto", "messages": [{"role": "user", "content": PROMPT}]} | body
    return httpx.post(
        f"{live.url}/v1/chat/completions", json=payload, headers=live.headers(), timeout=30
    )


def test_an_answer_cut_by_max_tokens_says_length_and_a_whole_one_says_stop(live: Live) -> None:
    cut = v1(live, max_tokens=5).json()
    whole = v1(live).json()

    assert cut["choices"][0]["finish_reason"] == "length"
    assert cut["usage"]["completion_tokens"] == 5
    assert whole["choices"][0]["finish_reason"] == "stop"
    assert whole["usage"]["completion_tokens"] > 5


def test_a_whole_answer_past_its_time_limit_is_an_error_that_keeps_what_was_written(
    live: Live,
) -> None:
    live.configure({"sim/economy": {"tokens_per_second": 8}})  # 300 tokens: 37 s

    response = v1(live, max_tokens=32_000)  # CHAT_WHOLE_ANSWER_DEADLINE_SECONDS is 3 here

    body = response.json()
    assert response.status_code == 504
    assert body["error"]["code"] == "deadline_exceeded"
    assert "time limit" in body["error"]["message"]
    partial = body["error"]["partial"]
    assert partial["content"] and partial["usage"]["completion_tokens"] > 0
    [call] = ModelCall.objects.for_org(live.tenant.org)
    assert call.status == CallStatus.FAILED and call.output_tokens > 0


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/v1/chat/completions", 405, "method_not_allowed"),
        ("DELETE", "/v1/models", 405, "method_not_allowed"),
        ("POST", "/v1/nothing-here", 404, "not_found"),
    ],
)
def test_every_v1_error_is_in_openais_shape(
    live: Live, method: str, path: str, status: int, code: str
) -> None:
    response = httpx.request(method, f"{live.url}{path}", headers=live.headers(), timeout=10)

    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and error["type"]


def test_the_sdk_reads_a_wrong_method_as_an_api_error(live: Live) -> None:
    client = openai.OpenAI(base_url=f"{live.url}/v1", api_key=live.tenant.secret, max_retries=0)
    try:
        with pytest.raises(openai.APIStatusError) as error:
            client.get("/chat/completions", cast_to=object)
    finally:
        client.close()

    assert error.value.status_code == 405
    assert error.value.body["code"] == "method_not_allowed"

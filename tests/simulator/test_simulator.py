"""The provider simulator over real HTTP, as `manage.py run_simulator` serves it.

The `openai` package is not installed in the venv, so the wire format is checked with httpx
against what the SDK parses. The simulator is not Django: no database is needed here.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import struct
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers import simulator

ROOT = Path(__file__).resolve().parents[2]
CHAT = "/v1/chat/completions"
API_KEY = "sim-test-key-0123456789"
HELLO = [{"role": "user", "content": "Explain the plan in a few words, please."}]


def start_simulator(log_path: Path, *args: str) -> Iterator[str]:
    """The simulator without a key from the environment, so tests choose whether it has one."""
    with simulator(log_path, *args, env={"SIMULATOR_API_KEY": ""}) as url:
        yield url


@pytest.fixture(scope="module")
def sim_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from start_simulator(tmp_path_factory.mktemp("sim") / "simulator.log", "--fast")


@pytest.fixture(scope="module")
def initial_config(sim_url: str) -> dict[str, Any]:
    return httpx.get(f"{sim_url}/_sim/config").json()


@pytest.fixture
def sim(sim_url: str, initial_config: dict[str, Any]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim_url, timeout=10) as client:
        assert client.put("/_sim/config", json=initial_config).status_code == 200
        assert client.post("/_sim/reset").status_code == 200
        yield client


def configure(client: httpx.Client, models: dict[str, Any], **extra: Any) -> None:
    response = client.put("/_sim/config", json={"models": models, **extra})
    assert response.status_code == 200, response.text


def chat(model: str = "sim/economy", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": HELLO, **extra}


def model_stats(client: httpx.Client, model: str) -> dict[str, Any]:
    return client.get("/_sim/stats").json()["models"][model]


def read_lines(response: httpx.Response) -> tuple[list[str], Exception | None]:
    """The non-empty lines received, and the transport error that ended the stream, if any."""
    lines: list[str] = []
    try:
        lines.extend(line for line in response.iter_lines() if line)
    except httpx.TransportError as error:
        return lines, error
    return lines, None


def stream_data(client: httpx.Client, body: dict[str, Any]) -> list[str]:
    with client.stream("POST", CHAT, json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines, error = read_lines(response)
    assert error is None
    return [line.removeprefix("data: ") for line in lines if line.startswith("data: ")]


# OpenAI chat completions


def test_models_lists_the_catalog_simulator_models(sim: httpx.Client) -> None:
    body = sim.get("/v1/models").json()

    assert body["object"] == "list"
    assert {m["id"] for m in body["data"]} == {"sim/economy", "sim/standard", "sim/frontier"}
    assert all(m["object"] == "model" and m["owned_by"] for m in body["data"])


def test_chat_completion_has_openai_shape_and_usage(sim: httpx.Client) -> None:
    response = sim.post(CHAT, json=chat(max_tokens=12))
    body = response.json()

    assert response.status_code == 200
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert isinstance(body["created"], int)
    assert body["model"] == "sim/economy"
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert len(choice["message"]["content"].split()) == 12
    assert choice["finish_reason"] == "length"  # 12 is shorter than the natural reply
    prompt_tokens = math.ceil(len(HELLO[0]["content"]) / 4)
    assert body["usage"] == {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": 12,
        "total_tokens": prompt_tokens + 12,
    }


def test_max_tokens_is_a_cap_and_the_finish_reason_says_which_ended_the_reply(
    sim: httpx.Client,
) -> None:
    natural = sim.post(CHAT, json=chat()).json()
    length = natural["usage"]["completion_tokens"]
    capped = sim.post(CHAT, json=chat(max_tokens=length - 1)).json()
    roomy = sim.post(CHAT, json=chat(max_tokens=length + 100)).json()

    assert natural["choices"][0]["finish_reason"] == "stop"
    assert capped["choices"][0]["finish_reason"] == "length"
    assert capped["usage"]["completion_tokens"] == length - 1
    assert roomy["choices"][0]["finish_reason"] == "stop"
    assert roomy["usage"]["completion_tokens"] == length


def test_requested_length_is_honoured_and_defaults_stay_plausible(sim: httpx.Client) -> None:
    short = sim.post(CHAT, json=chat(max_tokens=7)).json()
    preferred = sim.post(CHAT, json=chat(max_tokens=7, max_completion_tokens=25)).json()
    natural = sim.post(CHAT, json=chat()).json()

    assert short["usage"]["completion_tokens"] == 7
    assert preferred["usage"]["completion_tokens"] == 25
    assert 60 <= natural["usage"]["completion_tokens"] <= 300
    assert natural["choices"][0]["message"]["content"][0].isupper()


def test_same_request_gives_the_same_text(sim: httpx.Client) -> None:
    first = sim.post(CHAT, json=chat(max_tokens=40)).json()
    again = sim.post(CHAT, json=chat("sim/frontier", max_tokens=40)).json()
    other = sim.post(
        CHAT, json={**chat(max_tokens=40), "messages": [{"role": "user", "content": "Hi"}]}
    ).json()

    text = first["choices"][0]["message"]["content"]
    assert again["choices"][0]["message"]["content"] == text
    assert other["choices"][0]["message"]["content"] != text


def test_stream_with_usage_follows_openai_chunk_format(sim: httpx.Client) -> None:
    data = stream_data(sim, chat(max_tokens=5, stream=True, stream_options={"include_usage": True}))
    whole = sim.post(CHAT, json=chat(max_tokens=5)).json()

    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    content = [c["choices"][0]["delta"]["content"] for c in chunks[1:6]]
    assert "".join(content) == whole["choices"][0]["message"]["content"]
    assert chunks[6]["choices"][0]["finish_reason"] == "length"  # five tokens, cut by max_tokens
    assert all(c["usage"] is None for c in chunks[:7])
    assert chunks[7]["choices"] == []
    assert chunks[7]["usage"] == whole["usage"]
    assert len(chunks) == 8


def test_stream_without_usage_ends_with_finish_reason_then_done(sim: httpx.Client) -> None:
    data = stream_data(sim, chat(max_tokens=3, stream=True))

    chunks = [json.loads(d) for d in data[:-1]]
    assert data[-1] == "[DONE]"
    assert len(chunks) == 5  # role, three tokens, finish
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert all("usage" not in c for c in chunks)


def test_tokens_per_second_paces_a_stream(sim: httpx.Client) -> None:
    configure(sim, {"paced": {"tokens_per_second": 20}})

    started = time.monotonic()
    data = stream_data(sim, chat("paced", max_tokens=10, stream=True))

    assert time.monotonic() - started >= 0.4  # nine gaps of 50 ms after the first token
    assert len(data) == 13


def test_bad_requests_get_openai_errors(sim: httpx.Client) -> None:
    configure(sim, {"sim/economy": {}}, strict_models=True)

    invalid = sim.post(CHAT, content=b"{not json", headers={"content-type": "application/json"})
    missing = sim.post(CHAT, json={"model": "sim/economy"})
    too_long = sim.post(CHAT, json=chat(max_tokens=0))
    unknown = sim.post(CHAT, json=chat("gpt-nope"))

    for response, status in ((invalid, 400), (missing, 400), (too_long, 400), (unknown, 404)):
        assert response.status_code == status
        error = response.json()["error"]
        assert {"message", "type", "code"} <= error.keys()
        assert error["type"] == "invalid_request_error"
    assert missing.json()["error"]["param"] == "messages"
    assert unknown.json()["error"]["code"] == "model_not_found"


def test_control_endpoint_rejects_an_invalid_config(sim: httpx.Client) -> None:
    typo = sim.put("/_sim/config", json={"models": {"m": {"error-rate": 0.5}}})
    too_much = sim.put(
        "/_sim/config", json={"default": {"error_rate": 0.8, "failures": {"hang": 0.5}}}
    )

    assert typo.status_code == 400
    assert "error-rate" in typo.json()["error"]["message"]
    assert too_much.status_code == 400


# Embeddings


def test_embeddings_are_deterministic_unit_vectors(sim: httpx.Client) -> None:
    body = {"model": "sim/embed", "input": ["first text", "second text"]}
    first = sim.post("/v1/embeddings", json=body).json()
    again = sim.post("/v1/embeddings", json={**body, "input": "first text"}).json()
    packed = sim.post("/v1/embeddings", json={**body, "encoding_format": "base64"}).json()

    vectors = [item["embedding"] for item in first["data"]]
    assert first["object"] == "list"
    assert [item["index"] for item in first["data"]] == [0, 1]
    assert all(len(v) == 384 for v in vectors)
    assert all(abs(math.sqrt(sum(x * x for x in v)) - 1) < 1e-9 for v in vectors)
    assert again["data"][0]["embedding"] == vectors[0]
    assert vectors[0] != vectors[1]
    assert first["usage"]["prompt_tokens"] == first["usage"]["total_tokens"] > 0
    decoded = struct.unpack("<384f", base64.b64decode(packed["data"][0]["embedding"]))
    assert max(abs(a - b) for a, b in zip(decoded, vectors[0], strict=True)) < 1e-6


# Anthropic Messages


def anthropic_headers(key: str = "any-key") -> dict[str, str]:
    return {"x-api-key": key, "anthropic-version": "2023-06-01"}


def test_anthropic_message_has_messages_api_shape(sim: httpx.Client) -> None:
    body = {"model": "sim/standard", "max_tokens": 8, "system": "Be brief.", "messages": HELLO}
    response = sim.post("/v1/messages", json=body, headers=anthropic_headers())
    message = response.json()

    assert response.status_code == 200
    assert message["type"] == "message"
    assert message["id"].startswith("msg_")
    assert message["role"] == "assistant"
    assert message["content"][0]["type"] == "text"
    assert len(message["content"][0]["text"].split()) == 8
    assert message["stop_reason"] == "max_tokens"
    assert message["usage"]["input_tokens"] > 0
    assert message["usage"]["output_tokens"] == 8


def test_anthropic_stream_sends_events_in_order(sim: httpx.Client) -> None:
    body = {"model": "sim/standard", "max_tokens": 4, "messages": HELLO, "stream": True}
    with sim.stream("POST", "/v1/messages", json=body, headers=anthropic_headers()) as response:
        lines, error = read_lines(response)

    assert error is None
    names = [line.removeprefix("event: ") for line in lines if line.startswith("event: ")]
    events = [
        json.loads(line.removeprefix("data: ")) for line in lines if line.startswith("data: ")
    ]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * 4,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert [e["type"] for e in events] == names
    assert events[0]["message"]["usage"]["input_tokens"] > 0
    assert all(e["delta"]["type"] == "text_delta" for e in events[3:7])
    assert events[-2]["delta"]["stop_reason"] == "max_tokens"
    assert events[-2]["usage"]["output_tokens"] == 4


def test_anthropic_requires_a_key_and_a_version(sim: httpx.Client) -> None:
    body = {"model": "sim/standard", "max_tokens": 4, "messages": HELLO}
    no_key = sim.post("/v1/messages", json=body, headers={"anthropic-version": "2023-06-01"})
    no_version = sim.post("/v1/messages", json=body, headers={"x-api-key": "k"})

    assert no_key.status_code == 401
    assert no_key.json()["type"] == "error"
    assert no_key.json()["error"]["type"] == "authentication_error"
    assert no_key.json()["error"]["message"]
    assert no_version.status_code == 400
    assert no_version.json()["error"]["type"] == "invalid_request_error"


# Failure modes


def test_rate_limit_sends_retry_after(sim: httpx.Client) -> None:
    configure(sim, {"limited": {"error_rate": 1, "error_status": [429], "retry_after": 7}})

    response = sim.post(CHAT, json=chat("limited"))
    anthropic = sim.post(
        "/v1/messages",
        json={"model": "limited", "max_tokens": 5, "messages": HELLO},
        headers=anthropic_headers(),
    )

    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json()["error"]["type"] == "requests"
    assert anthropic.status_code == 429
    assert anthropic.json()["error"]["type"] == "rate_limit_error"


def test_error_rate_draws_statuses_from_the_list_reproducibly(sim: httpx.Client) -> None:
    configure(sim, {"flaky": {"error_rate": 0.5, "error_status": [500, 503]}}, seed=7)

    def statuses() -> list[int]:
        return [sim.post(CHAT, json=chat("flaky", max_tokens=2)).status_code for _ in range(40)]

    first = statuses()
    sim.post("/_sim/reset")
    again = statuses()

    assert set(first) == {200, 500, 503}
    assert again == first
    stats = model_stats(sim, "flaky")
    assert stats["failed"] == {"500": first.count(500), "503": first.count(503)}
    assert stats["succeeded"] == first.count(200)


def test_hang_never_answers_until_the_client_times_out(sim: httpx.Client) -> None:
    configure(sim, {"stuck": {"hang": True}})

    with pytest.raises(httpx.ReadTimeout):
        sim.post(CHAT, json=chat("stuck"), timeout=0.3)

    assert model_stats(sim, "stuck")["failed"] == {"hang": 1}


def test_cut_drops_the_stream_without_finish_or_done(sim: httpx.Client) -> None:
    configure(sim, {"cut": {"cut_after": 3}})

    with sim.stream("POST", CHAT, json=chat("cut", max_tokens=20, stream=True)) as response:
        lines, error = read_lines(response)
    with pytest.raises(httpx.RemoteProtocolError):
        sim.post(CHAT, json=chat("cut", max_tokens=20))

    assert isinstance(error, httpx.RemoteProtocolError)
    assert "[DONE]" not in "".join(lines)
    assert len(lines) == 4  # the role chunk and three tokens
    assert all(json.loads(line[6:])["choices"][0]["finish_reason"] is None for line in lines)
    assert model_stats(sim, "cut")["failed"] == {"cut": 2}


def test_malformed_chunk_arrives_after_n_chunks(sim: httpx.Client) -> None:
    configure(sim, {"broken": {"malformed_after": 2}})

    data = stream_data(sim, chat("broken", max_tokens=5, stream=True))
    whole = sim.post(CHAT, json=chat("broken", max_tokens=5))

    json.loads(data[2])  # role chunk and two tokens parse
    with pytest.raises(json.JSONDecodeError):
        json.loads(data[3])
    assert whole.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        whole.json()


def test_mixed_failures_land_near_their_shares(sim: httpx.Client) -> None:
    shares = {"500": 0.1, "429": 0.1, "hang": 0.05, "cut": 0.1, "malformed": 0.1}
    configure(sim, {"drill": {"failures": shares}})

    outcomes = asyncio.run(drill(str(sim.base_url), total=200))

    for kind, share in shares.items():
        assert 0.4 * share * 200 <= outcomes[kind] <= 1.8 * share * 200, outcomes
    assert 0.3 * 200 <= outcomes["ok"] <= 0.75 * 200
    stats = model_stats(sim, "drill")
    assert stats["requests"] == 200
    assert stats["succeeded"] == outcomes["ok"]
    assert stats["failed"] == {k: outcomes[k] for k in shares}


async def drill(base_url: str, total: int) -> Counter[str]:
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(base_url=base_url, timeout=0.5, limits=limits) as client:
        results = await asyncio.gather(*(drill_one(client) for _ in range(total)))
    return Counter(results)


async def drill_one(client: httpx.AsyncClient) -> str:
    try:
        response = await client.post(CHAT, json=chat("drill", max_tokens=5))
    except httpx.ReadTimeout:
        return "hang"
    except httpx.RemoteProtocolError:
        return "cut"
    if response.status_code != 200:
        return str(response.status_code)
    try:
        response.json()
    except json.JSONDecodeError:
        return "malformed"
    return "ok"


def test_client_disconnect_mid_stream_is_counted(sim: httpx.Client) -> None:
    configure(sim, {"slow": {"tokens_per_second": 50}})

    with sim.stream("POST", CHAT, json=chat("slow", max_tokens=200, stream=True)) as response:
        lines = response.iter_lines()
        for _ in range(3):
            next(lines)

    deadline = time.monotonic() + 3
    while model_stats(sim, "slow")["streams_cancelled_by_client"] == 0:
        assert time.monotonic() < deadline, model_stats(sim, "slow")
        time.sleep(0.05)
    stats = model_stats(sim, "slow")
    assert stats["succeeded"] == 0
    assert stats["tokens_sent"] < 50  # generation stopped instead of running to 200 tokens


# API key


@pytest.fixture(scope="module")
def keyed_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("keyed") / "simulator.log"
    yield from start_simulator(log, "--fast", "--api-key", API_KEY)
    assert API_KEY not in log.read_text()


def test_api_key_is_enforced_and_never_echoed(keyed_url: str) -> None:
    with httpx.Client(base_url=keyed_url, timeout=10) as client:
        missing = client.post(CHAT, json=chat())
        wrong = client.post(CHAT, json=chat(), headers={"authorization": f"Bearer {API_KEY}x"})
        control = client.get("/_sim/stats")
        good = client.post(CHAT, json=chat(), headers={"authorization": f"Bearer {API_KEY}"})
        anthropic_wrong = client.post(
            "/v1/messages",
            json={"model": "sim/economy", "max_tokens": 3, "messages": HELLO},
            headers=anthropic_headers(API_KEY + "x"),
        )
        anthropic_good = client.post(
            "/v1/messages",
            json={"model": "sim/economy", "max_tokens": 3, "messages": HELLO},
            headers=anthropic_headers(API_KEY),
        )

    for response in (missing, wrong, control):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"
    assert anthropic_wrong.status_code == 401
    assert good.status_code == 200
    assert anthropic_good.status_code == 200
    for response in (missing, wrong, anthropic_wrong, good):
        assert API_KEY not in response.text
        assert API_KEY not in str(response.headers)

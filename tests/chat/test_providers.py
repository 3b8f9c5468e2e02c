"""Provider adapters over real HTTP against the simulator, started once for this module."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from chat.providers.anthropic import AnthropicAdapter, anthropic_error
from chat.providers.base import (
    ChatMessage,
    CompletionRequest,
    Delta,
    Finish,
    ProviderError,
    ProviderTarget,
    Timeouts,
    Usage,
)
from chat.providers.clients import aclose_all, adapter_for, client_for, retry_after_seconds
from chat.providers.openai_compatible import OpenAICompatibleAdapter
from tests.servers import free_port
from tests.simulator.test_simulator import start_simulator

pytestmark = pytest.mark.anyio

SECRET = "sk-sim-secret-9f8e7d6c5b4a39281706"
KEY_ENV = "SB_TEST_PROVIDER_KEY"
PROMPT = "Explain the plan in a few words, please."
ASK = CompletionRequest(messages=(ChatMessage("user", PROMPT),), max_tokens=12)
QUICK = Timeouts(connect=2, first_byte=5, between_chunks=5)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def sim_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from start_simulator(tmp_path_factory.mktemp("sim") / "simulator.log", "--fast")


@pytest.fixture(scope="module")
def keyed_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("keyed") / "simulator.log"
    yield from start_simulator(log, "--fast", "--api-key", SECRET)


@pytest.fixture(scope="module")
def initial_config(sim_url: str) -> dict[str, Any]:
    return httpx.get(f"{sim_url}/_sim/config").json()


@pytest.fixture
def sim(sim_url: str, initial_config: dict[str, Any]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim_url, timeout=10) as client:
        assert client.put("/_sim/config", json=initial_config).status_code == 200
        yield client


@pytest.fixture(autouse=True)
async def _close_clients() -> AsyncIterator[None]:
    # Every test here is async (marked anyio), so this runs on the test's own event loop.
    yield
    await aclose_all()


@pytest.fixture
def anthropic_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_ENV, "any-key")
    return KEY_ENV


def configure(client: httpx.Client, models: dict[str, Any], **extra: Any) -> None:
    response = client.put("/_sim/config", json={"models": models, **extra})
    assert response.status_code == 200, response.text


def openai_target(base: str, model: str = "sim/economy", key_env: str = "") -> ProviderTarget:
    return ProviderTarget("simulator", "simulator", f"{base}/v1", key_env, model)


def anthropic_target(
    base: str, model: str = "sim/standard", key_env: str = KEY_ENV
) -> ProviderTarget:
    return ProviderTarget("anthropic-sim", "anthropic", base, key_env, model)


async def collect(
    target: ProviderTarget, request: CompletionRequest = ASK, timeouts: Timeouts = QUICK
) -> tuple[list[Delta], list[Usage]]:
    """The deltas, and the usage the stream's Finish reported (a list: empty or one)."""
    deltas: list[Delta] = []
    finishes: list[Finish] = []
    async for event in adapter_for(target).stream(target, request, timeouts):
        (deltas if isinstance(event, Delta) else finishes).append(event)  # type: ignore[arg-type]
    assert len(finishes) == 1 and isinstance(finishes[0], Finish)
    return deltas, [finishes[0].usage] if finishes[0].usage else []


async def failure(
    target: ProviderTarget, request: CompletionRequest = ASK, timeouts: Timeouts = QUICK
) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await collect(target, request, timeouts)
    return caught.value


def whole_text(sim: httpx.Client, model: str = "sim/economy") -> dict[str, Any]:
    body = {"model": model, "max_tokens": 12, "messages": [{"role": "user", "content": PROMPT}]}
    return sim.post("/v1/chat/completions", json=body).json()


# OpenAI-compatible


async def test_stream_joins_to_the_non_streaming_text(sim: httpx.Client) -> None:
    deltas, usages = await collect(openai_target(str(sim.base_url)))
    whole = whole_text(sim)

    assert len(deltas) == 12
    assert "".join(d.text for d in deltas) == whole["choices"][0]["message"]["content"]
    assert usages == [Usage(whole["usage"]["prompt_tokens"], whole["usage"]["completion_tokens"])]


async def test_system_and_assistant_messages_are_sent(sim: httpx.Client) -> None:
    request = CompletionRequest(
        messages=(
            ChatMessage("system", "Be brief."),
            ChatMessage("user", PROMPT),
            ChatMessage("assistant", "Sure."),
            ChatMessage("user", "Go on."),
        ),
        max_tokens=5,
        temperature=0.2,
    )
    deltas, usages = await collect(openai_target(str(sim.base_url)), request)

    assert len(deltas) == 5
    assert usages[0].output_tokens == 5
    assert usages[0].input_tokens > whole_text(sim)["usage"]["prompt_tokens"]


async def test_rate_limit_maps_with_retry_after(sim: httpx.Client) -> None:
    configure(sim, {"limited": {"error_rate": 1, "error_status": [429], "retry_after": 7}})

    error = await failure(openai_target(str(sim.base_url), "limited"))

    assert (error.kind, error.status, error.retry_after, error.permanent) == (
        "rate_limited",
        429,
        7,
        False,
    )


@pytest.mark.parametrize("status", [500, 503])
async def test_server_errors_map_to_server_error(sim: httpx.Client, status: int) -> None:
    configure(sim, {"flaky": {"error_rate": 1, "error_status": [status]}})

    error = await failure(openai_target(str(sim.base_url), "flaky"))

    assert (error.kind, error.status, error.permanent) == ("server_error", status, False)
    assert "server_error" in str(error)  # the provider's error type, not its free text


async def test_hang_times_out_waiting_for_the_first_token(sim: httpx.Client) -> None:
    configure(sim, {"stuck": {"hang": True}})
    timeouts = Timeouts(connect=2, first_byte=0.3, between_chunks=5)

    started = asyncio.get_running_loop().time()
    error = await failure(openai_target(str(sim.base_url), "stuck"), timeouts=timeouts)

    assert error.kind == "timeout"
    assert "0.3s" in str(error)
    assert asyncio.get_running_loop().time() - started < 2


async def test_silence_between_chunks_times_out(sim: httpx.Client) -> None:
    configure(sim, {"slow": {"tokens_per_second": 2}})
    timeouts = Timeouts(connect=2, first_byte=5, between_chunks=0.2)

    error = await failure(openai_target(str(sim.base_url), "slow"), timeouts=timeouts)

    assert error.kind == "timeout"


async def test_cut_stream_is_a_bad_response_after_its_deltas(sim: httpx.Client) -> None:
    configure(sim, {"cut": {"cut_after": 3}})
    target = openai_target(str(sim.base_url), "cut")
    deltas: list[Delta | Finish] = []

    with pytest.raises(ProviderError) as caught:
        async for event in adapter_for(target).stream(target, ASK, QUICK):
            deltas.append(event)

    assert caught.value.kind == "bad_response"
    assert "stream ended early" in str(caught.value)
    assert len(deltas) == 3


async def test_malformed_chunk_is_a_bad_response(sim: httpx.Client) -> None:
    configure(sim, {"broken": {"malformed_after": 2}})

    error = await failure(openai_target(str(sim.base_url), "broken"))

    assert error.kind == "bad_response"
    assert "invalid JSON" in str(error)


async def test_unknown_model_is_a_permanent_client_error(sim: httpx.Client) -> None:
    configure(sim, {"sim/economy": {}}, strict_models=True)

    error = await failure(openai_target(str(sim.base_url), "gpt-nope"))

    assert (error.kind, error.status, error.permanent) == ("client_error", 404, True)
    assert "model_not_found" in str(error)


async def test_refused_connection_is_a_connection_error() -> None:
    error = await failure(openai_target(f"http://127.0.0.1:{free_port()}"))

    assert error.kind == "connection"
    assert error.permanent is False


async def test_missing_key_names_the_variable(sim: httpx.Client) -> None:
    error = await failure(openai_target(str(sim.base_url), key_env="SB_TEST_UNSET_KEY"))

    assert (error.kind, error.permanent) == ("auth", True)
    assert "SB_TEST_UNSET_KEY" in str(error)


async def test_retry_after_reads_seconds_dates_and_milliseconds() -> None:
    now = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(datetime(2025, 3, 1, 12, 0, 30, tzinfo=UTC), usegmt=True)

    assert retry_after_seconds(httpx.Headers({"retry-after": "7"})) == 7
    assert retry_after_seconds(httpx.Headers({"retry-after": later}), now=now) == 30
    assert retry_after_seconds(httpx.Headers({"retry-after": "Mon, 01 Jan 2001 00:00:00 GMT"})) == 0
    assert retry_after_seconds(httpx.Headers({"retry-after-ms": "1500", "retry-after": "9"})) == 1.5
    assert retry_after_seconds(httpx.Headers({"retry-after": "soon"})) is None
    assert retry_after_seconds(httpx.Headers({"retry-after": "nan"})) is None
    assert retry_after_seconds(httpx.Headers()) is None


# Anthropic


async def test_anthropic_stream_joins_to_the_whole_message(
    sim: httpx.Client, anthropic_key: str
) -> None:
    request = CompletionRequest(
        messages=(ChatMessage("system", "Be brief."), ChatMessage("user", PROMPT)), max_tokens=8
    )
    body = {
        "model": "sim/standard",
        "max_tokens": 8,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": PROMPT}],
    }
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}

    deltas, usages = await collect(anthropic_target(str(sim.base_url)), request)
    whole = sim.post("/v1/messages", json=body, headers=headers).json()

    # The simulator's text depends on the system field: equal text means it went there.
    assert "".join(d.text for d in deltas) == whole["content"][0]["text"]
    assert usages == [Usage(whole["usage"]["input_tokens"], whole["usage"]["output_tokens"])]
    assert usages[0].output_tokens == 8


async def test_anthropic_defaults_max_tokens(sim: httpx.Client, anthropic_key: str) -> None:
    request = CompletionRequest(messages=(ChatMessage("user", PROMPT),))

    deltas, usages = await collect(anthropic_target(str(sim.base_url)), request)

    assert len(deltas) == usages[0].output_tokens > 12


async def test_anthropic_missing_key_names_the_variable(
    sim: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)

    missing = await failure(anthropic_target(str(sim.base_url)))
    unconfigured = await failure(anthropic_target(str(sim.base_url), key_env=""))

    assert (missing.kind, missing.permanent) == ("auth", True)
    assert KEY_ENV in str(missing)
    assert (unconfigured.kind, unconfigured.permanent) == ("auth", True)


@pytest.mark.parametrize(
    ("behaviour", "kind"),
    [
        ({"error_rate": 1, "error_status": [429], "retry_after": 3}, "rate_limited"),
        ({"error_rate": 1, "error_status": [529]}, "server_error"),
        ({"cut_after": 2}, "bad_response"),
        ({"malformed_after": 2}, "bad_response"),
    ],
)
async def test_anthropic_errors_are_mapped(
    sim: httpx.Client, anthropic_key: str, behaviour: dict[str, Any], kind: str
) -> None:
    configure(sim, {"faulty": behaviour})

    error = await failure(anthropic_target(str(sim.base_url), "faulty"))

    assert error.kind == kind
    assert error.permanent is False
    if kind == "rate_limited":
        assert error.retry_after == 3


async def test_anthropic_error_events_are_mapped() -> None:
    target = anthropic_target("http://unused")

    def mapped(error_type: str) -> tuple[str, bool]:
        error = anthropic_error(target, {"type": "error", "error": {"type": error_type}})
        return error.kind, error.permanent

    assert mapped("overloaded_error") == ("server_error", False)
    assert mapped("rate_limit_error") == ("rate_limited", False)
    assert mapped("invalid_request_error") == ("client_error", True)
    assert mapped("something_new") == ("server_error", False)


# Keys


async def test_key_from_env_is_sent_and_never_shown(
    keyed_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name in (None, "aiohttp"):  # settings may quieten the HTTP client's own loggers
        caplog.set_level(logging.DEBUG, logger=name)
    monkeypatch.setenv(KEY_ENV, SECRET)
    openai = openai_target(keyed_url, key_env=KEY_ENV)
    anthropic = anthropic_target(keyed_url, "sim/economy")

    openai_deltas, _ = await collect(openai)
    anthropic_deltas, _ = await collect(anthropic)
    monkeypatch.setenv(KEY_ENV, SECRET + "x")
    errors = [await failure(openai), await failure(anthropic)]
    for error in errors:
        logging.getLogger("tests").exception("provider failed", exc_info=error)

    assert openai_deltas and anthropic_deltas
    for error in errors:
        assert (error.kind, error.status, error.permanent) == ("auth", 401, True)
        assert SECRET not in str(error)
        assert SECRET not in repr(error)
        assert SECRET not in "".join(traceback.format_exception(error))
    assert "provider failed" in caplog.text
    assert SECRET not in caplog.text
    assert all(SECRET not in repr(c) for c in (client_for(openai), client_for(anthropic)))


# Clients


async def test_clients_are_shared_per_provider_and_loop(sim: httpx.Client) -> None:
    target = openai_target(str(sim.base_url))
    client = client_for(target)

    await collect(target)
    await collect(target)

    assert client_for(target) is client
    assert not client.closed
    other_model = ProviderTarget(target.provider, target.kind, target.api_base, "", "sim/frontier")
    assert client_for(other_model) is client
    assert client_for(anthropic_target(str(sim.base_url))) is not client
    assert await asyncio.to_thread(asyncio.run, _client_id_in_new_loop(target)) != id(client)
    await aclose_all()
    assert client.closed
    assert client_for(target) is not client


async def _client_id_in_new_loop(target: ProviderTarget) -> int:
    try:
        return id(client_for(target))
    finally:
        await aclose_all()


async def test_adapter_is_chosen_by_kind() -> None:
    def kind(name: str) -> ProviderTarget:
        return ProviderTarget("p", name, "http://unused", "", "m")

    assert isinstance(adapter_for(kind("simulator")), OpenAICompatibleAdapter)
    assert isinstance(adapter_for(kind("openai_compatible")), OpenAICompatibleAdapter)
    assert isinstance(adapter_for(kind("anthropic")), AnthropicAdapter)
    with pytest.raises(ProviderError) as caught:
        adapter_for(kind("carrier-pigeon"))
    assert caught.value.permanent is True

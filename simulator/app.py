"""The provider simulator: a plain ASGI app speaking OpenAI's and Anthropic's HTTP APIs.

It imports nothing from Django, so it starts fast and can be served on its own
(`daphne simulator.app:application`, configured by SIMULATOR_CONFIG and
SIMULATOR_API_KEY) as well as through `manage.py run_simulator`.

The /_sim/* control endpoints change behaviour and read counters of a running simulator.
They are for local use only: the simulator binds to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import dataclasses
import functools
import hmac
import json
import os
import random
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator import anthropic_api, openai_api
from simulator.asgi import (
    JSON_HEADERS,
    SSE_HEADERS,
    BodyTooLarge,
    Connection,
    HttpRequest,
    Receive,
    Scope,
    Send,
    json_bytes,
)
from simulator.config import (
    ConfigError,
    ModelBehaviour,
    SimulatorConfig,
    config_demo,
    config_dump,
    config_load,
    config_parse,
)
from simulator.faults import Fault, FaultKind, fault_choose
from simulator.quality import JUDGE_MODEL, answer_text, judge_text
from simulator.stats import ModelStats, Stats
from simulator.stream import StreamResult, Timing, pieces_cut, pieces_insert, stream_send
from simulator.text import default_length, reply_tokens, seed_of
from simulator.types import ApiError, ChatCall, Piece, Reply

Handler = Callable[[Connection, HttpRequest], Awaitable[None]]


def _capped(call: ChatCall, behaviour: ModelBehaviour | None, stop: str) -> ChatCall:
    """The call with the model's own output limit applied (`max_output_tokens`)."""
    cap = behaviour.max_output_tokens if behaviour else None
    if cap is None or call.length <= cap:
        return call
    return dataclasses.replace(call, length=cap, stop_reason=stop)


def _shaped(call: ChatCall, behaviour: ModelBehaviour | None, dialect: Dialect) -> ChatCall:
    """A judge's verdict or, for a model with a quality config, a task-shaped answer, as
    the call's reply (cut by max_tokens or the model's own limit); else the call unchanged."""
    if call.model == JUDGE_MODEL and call.prompt:
        text = judge_text(call.prompt)
    elif behaviour is not None and behaviour.quality and call.prompt:
        text = answer_text(
            model=call.model,
            prompt=call.prompt,
            quality=behaviour.quality,
            quality_hard=behaviour.quality_hard,
            length=default_length(call.seed),  # never the capped length: the cap cuts the text
        )
    else:
        return call
    tokens = tuple(re.findall(r"\s*\S+", text))
    caps = [c for c in (call.max_tokens, behaviour.max_output_tokens if behaviour else None) if c]
    cap = min(caps, default=len(tokens))
    natural_stop = "stop" if dialect.length_stop == "length" else "end_turn"
    return dataclasses.replace(
        call,
        text_tokens=tokens[:cap],
        length=min(cap, len(tokens)),
        stop_reason=dialect.length_stop if cap < len(tokens) else natural_stop,
    )


@dataclass(frozen=True)
class Dialect:
    error_body: Callable[[int, str, str | None, str | None], Any]
    completion_body: Callable[[Reply], Any]
    stream_pieces: Callable[[Reply], list[Piece]]
    malformed_piece: Callable[[Reply], Piece]
    id_prefix: str
    length_stop: str  # the stop reason of a reply cut at its length limit


OPENAI = Dialect(
    openai_api.error_body,
    openai_api.completion_body,
    openai_api.stream_pieces,
    openai_api.malformed_piece,
    "chatcmpl-",
    "length",
)
ANTHROPIC = Dialect(
    anthropic_api.error_body,
    anthropic_api.completion_body,
    anthropic_api.stream_pieces,
    anthropic_api.malformed_piece,
    "msg_",
    "max_tokens",
)


class Simulator:
    def __init__(self, config: SimulatorConfig, api_key: str | None = None) -> None:
        self.config = config
        self.stats = Stats()
        self._api_key = api_key.encode() if api_key else None
        self._rngs: dict[str, random.Random] = {}
        self._routes: dict[str, dict[str, Handler]] = {
            "/v1/chat/completions": {"POST": self._chat_completions},
            "/v1/messages": {"POST": self._messages},
            "/v1/embeddings": {"POST": self._embeddings},
            "/v1/models": {"GET": self._models},
            "/_sim/config": {"GET": self._config_get, "PUT": self._config_put},
            "/_sim/stats": {"GET": self._stats},
            "/_sim/reset": {"POST": self._reset},
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        conn = Connection(scope, receive, send)
        try:
            request = await conn.read_request()
            if request is not None:
                await self._dispatch(conn, request)
        except BodyTooLarge:
            await self._error(conn, OPENAI, ApiError(413, "The request body is too large."))
        finally:
            await conn.close()

    async def _dispatch(self, conn: Connection, request: HttpRequest) -> None:
        dialect = ANTHROPIC if request.path == "/v1/messages" else OPENAI
        try:
            methods = self._routes.get(request.path)
            if methods is None:
                raise ApiError(404, f"Unknown request URL: {request.path}.", "unknown_url")
            if not self._authorized(request, dialect):
                raise ApiError(401, "Incorrect or missing API key.", "invalid_api_key")
            handler = methods.get(request.method)
            if handler is None:
                raise ApiError(405, f"{request.method} is not allowed here.", "method_not_allowed")
            await handler(conn, request)
        except ApiError as error:
            await self._error(conn, dialect, error)

    def _authorized(self, request: HttpRequest, dialect: Dialect) -> bool:
        if dialect is ANTHROPIC:
            given = request.headers.get("x-api-key", "")
            return bool(given) and (self._api_key is None or _same(given, self._api_key))
        if self._api_key is None:
            return True
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and _same(token.strip(), self._api_key)

    async def _error(self, conn: Connection, dialect: Dialect, error: ApiError) -> None:
        body = dialect.error_body(error.status, error.message, error.code, error.param)
        await conn.respond(error.status, json_bytes(body))

    async def _chat_completions(self, conn: Connection, request: HttpRequest) -> None:
        await self._generate(conn, OPENAI, openai_api.chat_parse(_json(request)))

    async def _messages(self, conn: Connection, request: HttpRequest) -> None:
        if not request.headers.get("anthropic-version"):
            raise ApiError(400, "anthropic-version: header is required")
        await self._generate(conn, ANTHROPIC, anthropic_api.messages_parse(_json(request)))

    async def _generate(self, conn: Connection, dialect: Dialect, call: ChatCall) -> None:
        behaviour_of_model = self.config.behaviour_for(call.model)
        call = _shaped(call, behaviour_of_model, dialect)
        call = _capped(call, behaviour_of_model, dialect.length_stop)
        tokens = call.text_tokens or reply_tokens(call.seed, call.length)
        behaviour, fault, stats = self._begin(call.model, len(tokens))
        if await self._failed_early(conn, dialect, fault, behaviour):
            return
        reply = Reply(
            id=dialect.id_prefix + uuid.uuid4().hex[:24],
            model=call.model,
            created=int(time.time()),
            tokens=tokens,
            prompt_tokens=call.prompt_tokens,
            stop_reason=call.stop_reason,
            include_usage=call.include_usage,
        )
        timing = Timing.of(behaviour)
        if call.stream:
            result = await _stream(conn, dialect, reply, fault, timing)
        else:
            body = json_bytes(dialect.completion_body(reply))
            delay = timing.token_due(max(0, len(tokens) - 1))
            result = await _whole(conn, body, len(tokens), fault, delay)
        _record(stats, fault, result, stream=call.stream)

    async def _embeddings(self, conn: Connection, request: HttpRequest) -> None:
        model, inputs, encoding, dimensions = openai_api.embeddings_parse(_json(request))
        behaviour, fault, stats = self._begin(model, 1)
        if await self._failed_early(conn, OPENAI, fault, behaviour):
            return
        body = json_bytes(openai_api.embeddings_body(model, inputs, encoding, dimensions))
        result = await _whole(conn, body, 0, fault, behaviour.first_token_ms / 1000)
        _record(stats, fault, result, stream=False)

    def _begin(self, model: str, reply_length: int) -> tuple[ModelBehaviour, Fault, ModelStats]:
        """The model's behaviour and this request's fault, with the request counted."""
        behaviour = self.config.behaviour_for(model)
        if behaviour is None:
            raise ApiError(404, f"The model `{model}` does not exist.", "model_not_found", "model")
        if model not in self._rngs:
            seed = seed_of([self.config.seed, model])
            self._rngs[model] = random.Random(seed)  # noqa: S311 - reproducible faults
        fault = fault_choose(behaviour, self._rngs[model], reply_length)
        stats = self.stats.for_model(model)
        stats.requests += 1
        if fault.kind in (FaultKind.ERROR, FaultKind.HANG):
            stats.failed[fault.label] += 1
        return behaviour, fault, stats

    async def _failed_early(
        self, conn: Connection, dialect: Dialect, fault: Fault, behaviour: ModelBehaviour
    ) -> bool:
        """Answer an error status or hang until the client leaves; False if neither applies."""
        if fault.kind is FaultKind.HANG:
            await conn.wait_for_disconnect()
            return True
        if fault.kind is not FaultKind.ERROR:
            return False
        headers = list(JSON_HEADERS)
        message = f"Simulated upstream failure ({fault.status})."
        if fault.status == 429:
            message = "Rate limit reached (simulated). Please try again later."
            if behaviour.retry_after is not None:
                headers.append((b"retry-after", str(behaviour.retry_after).encode()))
        body = dialect.error_body(fault.status, message, None, None)
        await conn.respond(fault.status, json_bytes(body), headers)
        return True

    async def _models(self, conn: Connection, request: HttpRequest) -> None:
        await conn.respond(200, json_bytes(openai_api.models_body(list(self.config.models))))

    async def _config_get(self, conn: Connection, request: HttpRequest) -> None:
        await conn.respond(200, json_bytes(config_dump(self.config)))

    async def _config_put(self, conn: Connection, request: HttpRequest) -> None:
        try:
            self.config = config_parse(_json(request))
        except ConfigError as error:
            raise ApiError(400, str(error), "invalid_config") from error
        # A new config restarts each model's fault sequence, so a drill is reproducible.
        self._rngs.clear()
        await self._config_get(conn, request)

    async def _stats(self, conn: Connection, request: HttpRequest) -> None:
        await conn.respond(200, json_bytes(self.stats.as_dict()))

    async def _reset(self, conn: Connection, request: HttpRequest) -> None:
        self.stats = Stats()
        self._rngs.clear()
        await self._stats(conn, request)


async def _stream(
    conn: Connection, dialect: Dialect, reply: Reply, fault: Fault, timing: Timing
) -> StreamResult:
    pieces = dialect.stream_pieces(reply)
    if fault.kind is FaultKind.CUT:
        pieces = pieces_cut(pieces, fault.after)
    elif fault.kind is FaultKind.MALFORMED:
        pieces = pieces_insert(pieces, fault.after, dialect.malformed_piece(reply))
    await conn.start(200, SSE_HEADERS)
    result = await stream_send(conn, pieces, timing)
    if result.completed and fault.kind is FaultKind.CUT:
        await conn.abort()
    elif result.completed:
        await conn.finish()
    return result


async def _whole(
    conn: Connection, body: bytes, tokens: int, fault: Fault, delay: float
) -> StreamResult:
    """Answer a non-streaming request after `delay`, unless the client has gone by then."""
    if not await conn.pause(delay):
        return StreamResult(completed=False, tokens_sent=0)
    if fault.kind is FaultKind.CUT:
        await conn.abort()
        return StreamResult(completed=True, tokens_sent=0)
    if fault.kind is FaultKind.MALFORMED:
        await conn.respond(200, body[: len(body) // 2])
        return StreamResult(completed=True, tokens_sent=0)
    await conn.respond(200, body)
    return StreamResult(completed=True, tokens_sent=tokens)


def _record(stats: ModelStats, fault: Fault, result: StreamResult, *, stream: bool) -> None:
    stats.tokens_sent += result.tokens_sent
    if not result.completed and stream:
        stats.streams_cancelled_by_client += 1
    elif not result.completed:
        stats.requests_cancelled_by_client += 1
    elif fault.kind is FaultKind.NONE:
        stats.succeeded += 1
    else:
        stats.failed[fault.label] += 1


def _json(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(400, "We could not parse the JSON body of your request.") from error


def _same(given: str, expected: bytes) -> bool:
    return hmac.compare_digest(given.encode(), expected)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(config: SimulatorConfig | None = None, api_key: str | None = None) -> Simulator:
    return Simulator(config or config_demo(), api_key)


@functools.cache
def _app_from_env() -> Simulator:
    path = os.environ.get("SIMULATOR_CONFIG")
    config = config_load(Path(path)) if path else config_demo()
    return create_app(config, os.environ.get("SIMULATOR_API_KEY") or None)


async def application(scope: Scope, receive: Receive, send: Send) -> None:
    """The simulator configured from SIMULATOR_CONFIG (a JSON file) and SIMULATOR_API_KEY."""
    await _app_from_env()(scope, receive, send)

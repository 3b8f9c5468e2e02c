"""One request id from the edge to the records and the logs: the caller's sane X-Request-Id
or a new one, on the response, the ModelCall, the PromptCheck and every log line."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from accounts.logs import EventFormatter, JsonEventFormatter, log_event
from accounts.redis import redis_async_close
from accounts.request_context import RequestIdFilter, request_context_open
from chat.providers.clients import aclose_all
from gateway.asgi import application
from routing.models import PromptCheck
from tests.chat import conftest as live_stack
from tests.chat.conftest import Live
from tests.servers import ROOT
from usage.models import ModelCall

simulator_url = live_stack.simulator_url
gateway_url = live_stack.gateway_url
live = live_stack.live

PROMPT = "Tell me something cheerful about the weather today."
STAGES = ["chat.precheck", "chat.route", "chat.attempt", "chat.billed", "chat.end"]


def call(method: str, path: str, **kwargs: object) -> httpx.Response:
    """One request through the whole ASGI application (the edge included), in-process."""

    async def main() -> httpx.Response:
        transport = httpx.ASGITransport(app=application)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
                return await c.request(method, path, timeout=20, **kwargs)  # type: ignore[arg-type]
        finally:
            await aclose_all()
            await redis_async_close()

    return asyncio.run(main())


@pytest.fixture
def chat_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.INFO)
    return caplog


def test_the_callers_id_is_on_the_header_the_records_and_every_log_line(
    live: Live, chat_logs: pytest.LogCaptureFixture
) -> None:
    body = {"message": PROMPT, "stream": False, "max_tokens": 8}
    headers = {**live.headers(), "X-Request-Id": "edge-trace.42"}

    response = call("POST", "/api/ai/chat", json=body, headers=headers)

    assert response.status_code == 200, response.text
    assert response.headers["X-Request-Id"] == "edge-trace.42"
    assert ModelCall.objects.for_org(live.tenant.org).get().request_id == "edge-trace.42"
    check = PromptCheck.objects.for_org(live.tenant.org).get()
    assert check.decision["request_id"] == "edge-trace.42"
    ours = [r for r in chat_logs.records if r.name.startswith("switchboard")]
    assert [r.getMessage() for r in ours] == STAGES
    assert {r.request_id for r in chat_logs.records} == {"edge-trace.42"}  # type: ignore[attr-defined]
    assert PROMPT not in chat_logs.text


def test_an_insane_incoming_id_is_replaced_by_a_new_one(live: Live) -> None:
    body = {"model": "auto", "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 8}
    headers = {**live.headers(), "X-Request-Id": "no spaces or <tags> allowed"}

    response = call("POST", "/v1/chat/completions", json=body, headers=headers)

    assert response.status_code == 200, response.text
    made = response.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert ModelCall.objects.for_org(live.tenant.org).get().request_id == made


def test_an_idempotency_key_becomes_the_request_id(live: Live) -> None:
    body = {"message": PROMPT, "stream": False, "max_tokens": 8}
    headers = {**live.headers(), "Idempotency-Key": "order-77", "X-Request-Id": "edge-1"}

    response = call("POST", "/api/ai/chat", json=body, headers=headers)

    assert response.headers["X-Request-Id"] == "order-77"
    assert ModelCall.objects.for_org(live.tenant.org).get().request_id == "order-77"


def test_a_reused_incoming_id_is_a_replay(live: Live) -> None:
    body = {"message": PROMPT, "stream": False, "max_tokens": 8}
    headers = {**live.headers(), "X-Request-Id": "edge-twice"}

    first = call("POST", "/api/ai/chat", json=body, headers=headers)
    second = call("POST", "/api/ai/chat", json=body, headers=headers)

    assert first.status_code == 200
    assert second.status_code == 409
    assert ModelCall.objects.for_org(live.tenant.org).count() == 1


def test_pages_get_a_request_id_too() -> None:
    response = call("GET", "/healthz", headers={"X-Request-Id": "probe-1"})

    assert response.headers["X-Request-Id"] == "probe-1"


def _record(fields: dict[str, object]) -> logging.LogRecord:
    logger = logging.getLogger("switchboard.test")
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(RequestIdFilter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        request_context_open("req-json-1")
        log_event(logger, "chat.attempt", **fields)
    finally:
        logger.removeHandler(handler)
    return records[0]


def test_production_lines_are_one_json_object_with_the_fields() -> None:
    record = _record({"model": "sim/economy", "status": "failed", "latency_ms": 12})
    formatter = JsonEventFormatter(
        "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )

    line = json.loads(formatter.format(record))

    assert line["message"] == "chat.attempt"
    assert line["request_id"] == "req-json-1"
    assert (line["model"], line["status"], line["latency_ms"]) == ("sim/economy", "failed", 12)
    assert line["level"] == "INFO" and line["logger"] == "switchboard.test"


def test_development_lines_are_readable_with_key_values() -> None:
    record = _record({"model": "sim/economy", "status": "failed"})
    formatter = EventFormatter("%(levelname)s [%(request_id)s] %(message)s")

    assert formatter.format(record) == (
        "INFO [req-json-1] chat.attempt model=sim/economy status=failed"
    )


_PRODUCTION_LINE = """
import logging, django
django.setup()
from accounts.logs import log_event
from accounts.request_context import request_context_open
request_context_open("prod-req-9")
log_event(logging.getLogger("switchboard.chat"), "chat.end", outcome="ok")
"""


def test_production_settings_write_json_lines(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gateway.settings.production",
        "SECRET_KEY": "x" * 60,
        "DATABASE_URL": "postgres://nobody@localhost/none",
        "REDIS_URL": "redis://localhost:1/0",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    run = subprocess.run(
        [sys.executable, "-c", _PRODUCTION_LINE], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert run.returncode == 0, run.stderr
    line = json.loads(run.stderr.strip().splitlines()[-1])
    assert (line["message"], line["outcome"], line["request_id"]) == (
        "chat.end",
        "ok",
        "prod-req-9",
    )

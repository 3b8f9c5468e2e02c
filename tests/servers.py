"""Real servers for tests: the provider simulator and the gateway's web process as the
Procfile starts it, as subprocesses on free loopback ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from gateway.procfile import procfile_command, procfile_env

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(
    command: list[str] | str,
    *,
    ready_path: str,
    port: int,
    log_path: Path,
    env: Mapping[str, str],
) -> Iterator[str]:
    """Run `command` (a shell line when a string) until the block ends; yields its base URL
    once `ready_path` answers."""
    log = log_path.open("w")
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=procfile_env(env),
        stdout=log,
        stderr=subprocess.STDOUT,
        shell=isinstance(command, str),
        start_new_session=True,  # so the whole group (server and workers) can be stopped
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + ready_path, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"{command} did not start: {log_path.read_text()}")
                time.sleep(0.1)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


@contextmanager
def simulator(log_path: Path, *args: str, env: Mapping[str, str] | None = None) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "manage.py", "run_simulator", "--port", str(port), *args]
    with serve(
        command, ready_path="/v1/models", port=port, log_path=log_path, env=env or {}
    ) as url:
        yield url


def database_url(settings_dict: Mapping[str, object]) -> str:
    """A DATABASE_URL for the database Django is connected to (the test database)."""
    host = quote(str(settings_dict["HOST"] or "localhost"), safe="")
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    password = f":{quote(str(settings_dict['PASSWORD']))}" if settings_dict.get("PASSWORD") else ""
    return f"postgres://{settings_dict['USER']}{password}@{host}{port}/{settings_dict['NAME']}"


@contextmanager
def gateway(log_path: Path, env: Mapping[str, str], workers: int = 1) -> Iterator[str]:
    """The web process exactly as the Procfile's `web:` line starts it."""
    port = free_port()
    env = {**env, "PORT": str(port), "WEB_CONCURRENCY": str(workers)}
    with serve(
        procfile_command("web"), ready_path="/healthz", port=port, log_path=log_path, env=env
    ) as url:
        yield url

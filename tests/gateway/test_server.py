"""The ASGI app served by daphne, as `make run` starts it, answers over real HTTP."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def daphne_url(tmp_path: Path) -> Iterator[str]:
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{quote(db['HOST'], safe='')}/{db['NAME']}"
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "gateway.settings.base",
    }
    daphne = Path(sys.executable).with_name("daphne")
    log = (tmp_path / "daphne.log").open("w")
    process = subprocess.Popen(
        [str(daphne), "-b", "127.0.0.1", "-p", str(port), "gateway.asgi:application"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(f"daphne did not start: {(tmp_path / 'daphne.log').read_text()}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_daphne_serves_the_login_page_and_its_stylesheet(daphne_url: str) -> None:
    login = httpx.get(f"{daphne_url}/accounts/login/", timeout=10)
    css = httpx.get(f"{daphne_url}/static/css/app.css", timeout=10)
    dashboard = httpx.get(f"{daphne_url}/app/", timeout=10)

    assert login.status_code == 200
    assert 'name="password"' in login.text
    assert css.status_code == 200
    assert dashboard.status_code == 302
    assert dashboard.headers["location"].startswith("/accounts/login/")

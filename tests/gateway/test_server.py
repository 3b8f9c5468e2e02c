"""The ASGI app served by daphne, as `make run` starts it, answers over real HTTP."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.db import connection

from tests.servers import database_url, gateway

pytestmark = pytest.mark.django_db


@pytest.fixture
def daphne_url(tmp_path: Path) -> Iterator[str]:
    env = {
        "DATABASE_URL": database_url(connection.settings_dict),
        "DJANGO_SETTINGS_MODULE": "gateway.settings.base",
    }
    with gateway(tmp_path / "web.log", env) as url:
        yield url


def test_daphne_serves_the_login_page_and_its_stylesheet(daphne_url: str) -> None:
    login = httpx.get(f"{daphne_url}/accounts/login/", timeout=10)
    css = httpx.get(f"{daphne_url}/static/css/app.css", timeout=10)
    dashboard = httpx.get(f"{daphne_url}/app/", timeout=10)

    assert login.status_code == 200
    assert 'name="password"' in login.text
    assert css.status_code == 200
    assert dashboard.status_code == 302
    assert dashboard.headers["location"].startswith("/accounts/login/")


def test_v1_is_served_without_the_browser_middleware(daphne_url: str) -> None:
    login = httpx.get(f"{daphne_url}/accounts/login/", timeout=10)
    models = httpx.get(f"{daphne_url}/v1/models", cookies=login.cookies, timeout=10)
    unknown = httpx.get(f"{daphne_url}/v1/nothing-here", timeout=10)

    assert login.headers["x-frame-options"] == "DENY"  # the browser stack sets it
    assert models.status_code == 401  # a session cookie is no credential for /v1
    assert models.json()["error"]["type"] == "authentication_error"
    assert "x-frame-options" not in models.headers
    assert "set-cookie" not in models.headers
    assert unknown.status_code == 404

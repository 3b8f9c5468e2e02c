"""Real headless Chromium, driven by Playwright, against the app under daphne with the
simulator upstream (the `live` stack of tests/chat/conftest.py).

The system Chromium is used (Debian's `chromium`; `.ci/run` installs it). Without it these
tests fail, loudly: a browser test that skips would hide a broken page.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.chat import conftest as live_stack
from tests.chat.conftest import Live
from tests.servers import ROOT

# The live stack's fixtures (daphne + simulator), shared with the gateway's tests: named
# here so pytest finds them for the tests in this folder too.
simulator_url = live_stack.simulator_url
gateway_url = live_stack.gateway_url
live = live_stack.live

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RESULTS = ROOT / "test-results"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
# The simulator at a pace a person (and a test) can watch: tokens arrive one by one.
VISIBLE_PACE = {"tokens_per_second": 30, "first_token_ms": 150}
TIMEOUT_MS = 15_000

expect.set_options(timeout=TIMEOUT_MS)


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(
            f"Chromium is not installed (looked for {path}). The browser tests need it: "
            "`apt-get install -y chromium` (as .ci/run does), or set CHROMIUM_PATH."
        )
    return path


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    """A browser per test: Playwright's sync API keeps an event loop running in this thread
    while it is open, which asyncio.run() in other tests must never meet."""
    path = chromium_path()
    # The same loop makes Django's async-safety check refuse the ORM calls the test makes
    # between browser steps; those calls are plain sync code, so the check can be lifted.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Browser, live: Live) -> Iterator[Page]:
    live.configure({"sim/economy": VISIBLE_PACE, "sim/standard": VISIBLE_PACE})
    context = browser.new_context(base_url=live.url, viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def sign_in(page: Page, live: Live, user: Any) -> None:
    """Give the browser a session for `user` (sign-up itself is covered once, by its test)."""
    client = Client()
    client.force_login(user)
    cookie = {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live.url}
    page.context.add_cookies([cookie])


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save `test-results/<name>.png`; `full_page=False` shows what the screen shows (a
    full-page capture draws the phone layout's sticky composer mid-page)."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path

"""Start-up refuses bad configuration with a message naming the variable, never its secret."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def start_django(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "gateway.settings.base", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "mysql://app:hunter2secret@db/app",
        "postgres://app:hunter2secret@db",
        "http://x",
    ],
)
def test_malformed_database_url_stops_startup_naming_the_variable(url: str) -> None:
    result = start_django(DATABASE_URL=url)

    assert result.returncode != 0
    assert "DATABASE_URL is malformed" in result.stderr
    assert "hunter2secret" not in result.stderr


def test_malformed_redis_url_stops_startup_naming_the_variable() -> None:
    result = start_django(REDIS_URL="localhost:6379")

    assert result.returncode != 0
    assert "REDIS_URL is malformed" in result.stderr


def test_invalid_boolean_is_refused_naming_the_variable() -> None:
    result = start_django(DEBUG="maybe")

    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_production_settings_require_a_secret_key() -> None:
    result = start_django(DJANGO_SETTINGS_MODULE="gateway.settings.production", SECRET_KEY="short")

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ACCOUNT_EMAIL_VERIFICATION", "always", "ACCOUNT_EMAIL_VERIFICATION must be one of"),
        ("EMAIL_BACKEND", "smtp please", "EMAIL_BACKEND must be a dotted Python path"),
        ("PRECHECK_RATE", "lots", "PRECHECK_RATE must be a rate such as 120/min"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be one of"),
        ("SITE_URL", "example.com", "SITE_URL must be a http or https URL"),
        ("CHAT_DEADLINE_SECONDS", "0", "CHAT_DEADLINE_SECONDS must be at least 1"),
        ("PROVIDER_CHUNK_TIMEOUT", "nan", "PROVIDER_CHUNK_TIMEOUT must be at least"),
        ("DB_POOL_MAX_SIZE", "many", "DB_POOL_MAX_SIZE must be an integer"),
    ],
)
def test_every_variable_is_checked_and_a_bad_value_is_named(
    variable: str, value: str, message: str
) -> None:
    result = start_django(**{variable: value})

    assert result.returncode != 0
    assert message in result.stderr

"""docker-compose.yml defines and wires every service the settings need (Docker cannot run here)."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ["web", "worker", "beat"]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def settings_env_vars() -> set[str]:
    source = "".join(p.read_text() for p in (ROOT / "gateway" / "settings").glob("*.py"))
    pattern = r"(?:os\.environ\.get|os\.environ\[|env_[a-z]+)\(?\s*[\"']([A-Z_]+)"
    return set(re.findall(pattern, source))


def test_database_and_valkey_services_are_healthchecked(compose: dict) -> None:
    services = compose["services"]

    assert services["db"]["image"].startswith("pgvector/pgvector")
    assert "valkey" in services["valkey"]["image"]
    for name in ["db", "valkey", *APP_SERVICES]:
        assert services[name]["healthcheck"]["test"], name


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_point_at_the_compose_database_and_valkey(compose: dict, name: str) -> None:
    service = compose["services"][name]
    env = service["environment"]

    assert env["DJANGO_SETTINGS_MODULE"] == "gateway.settings.production"
    assert "@db:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://valkey:6379")
    assert service["depends_on"]["db"]["condition"] == "service_healthy"
    assert service["depends_on"]["valkey"]["condition"] == "service_healthy"


def test_processes_run_the_procfile_web_line_celery_worker_and_beat(compose: dict) -> None:
    services = compose["services"]

    assert services["web"]["command"] == ["honcho", "start", "-f", "Procfile", "web"]
    assert services["web"]["environment"]["HOST"] == "0.0.0.0"  # noqa: S104 - in its container
    assert "uvicorn gateway.asgi:application" in (ROOT / "Procfile").read_text()
    assert services["worker"]["command"][:4] == ["celery", "-A", "gateway", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "gateway", "beat"]


def test_web_waits_for_migrations(compose: dict) -> None:
    web = compose["services"]["web"]

    assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "migrate" in " ".join(compose["services"]["migrate"]["command"])


def test_every_variable_production_needs_is_set_for_the_app(compose: dict) -> None:
    required = {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"}
    env = compose["services"]["web"]["environment"]

    assert required <= settings_env_vars(), "settings no longer read a variable compose sets"
    assert required <= set(env)
    assert "${SECRET_KEY:?" in env["SECRET_KEY"], "a missing secret must stop compose, not default"


def test_simulator_service_is_the_apps_default_upstream(compose: dict) -> None:
    simulator = compose["services"]["simulator"]
    port = simulator["command"][simulator["command"].index("--port") + 1]

    assert "run_simulator" in simulator["command"]
    assert "ports" not in simulator, "the control endpoints must not be published"
    assert (
        f"http://simulator:{port}/v1" in compose["services"]["web"]["environment"]["SIMULATOR_URL"]
    )


def test_web_metric_files_start_empty_with_each_container(compose: dict) -> None:
    web = compose["services"]["web"]
    directory = web["environment"]["PROMETHEUS_MULTIPROC_DIR"]

    assert any(mount.split(":")[0] == directory for mount in web["tmpfs"])
    assert "${METRICS_TOKEN:-}" in web["environment"]["METRICS_TOKEN"]

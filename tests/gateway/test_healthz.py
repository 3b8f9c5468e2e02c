import pytest
from django.db import connection
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_healthz_reports_every_part_ok(client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "pgvector": "ok", "redis": "ok"}


def test_healthz_is_503_naming_redis_when_it_is_unreachable(client) -> None:
    with override_settings(REDIS_URL="redis://127.0.0.1:9/0"):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["redis"]
    assert response.json()["checks"]["database"] == "ok"


def test_healthz_is_503_naming_pgvector_when_the_extension_is_missing(client) -> None:
    # The test runs inside a transaction that is rolled back, DDL included.
    with connection.cursor() as cursor:
        cursor.execute("DROP EXTENSION vector CASCADE")

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["pgvector"]
    assert response.json()["checks"]["pgvector"] == "missing"

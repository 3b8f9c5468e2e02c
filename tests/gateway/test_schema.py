import io
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_openapi_schema_is_valid_and_lists_the_api(tmp_path: Path) -> None:
    out = tmp_path / "schema.yml"

    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(out), stderr=io.StringIO()
    )

    paths = yaml.safe_load(out.read_text())["paths"]
    assert {"/api/me", "/api/keys", "/api/keys/{key_id}/revoke"} <= set(paths)
    assert {"/api/ai/chat", "/api/ai/precheck", "/api/ai/models"} <= set(paths)
    assert {"/v1/chat/completions", "/v1/models"} <= set(paths)


def test_schema_is_served_to_signed_in_callers(client, tenant) -> None:
    client.force_login(tenant.owner)

    response = client.get("/api/schema")

    assert response.status_code == 200
    assert b"openapi" in response.content

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

    schema = yaml.safe_load(out.read_text())
    paths, schemas = schema["paths"], schema["components"]["schemas"]
    assert {"/api/me", "/api/keys", "/api/keys/{key_id}/revoke"} <= set(paths)
    assert {"/api/ai/chat", "/api/ai/precheck", "/api/ai/models"} <= set(paths)
    assert {"/v1/chat/completions", "/v1/models"} <= set(paths)
    assert {"/api/admin/model-calls", "/api/admin/models/{model_id}/activate"} <= set(paths)

    completions = paths["/v1/chat/completions"]["post"]
    body = completions["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["model", "messages"]
    assert {"400", "401", "402", "403", "409", "429"} <= set(completions["responses"])
    error = completions["responses"]["429"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/Error"}
    assert set(schemas["Error"]["properties"]["error"]["properties"]) == {
        "message",
        "type",
        "code",
        "param",
    }
    chat = paths["/api/ai/chat"]["post"]
    assert [p["name"] for p in chat["parameters"]] == ["Idempotency-Key"]
    assert "message" in chat["requestBody"]["content"]["application/json"]["schema"]["required"]
    precheck = schemas["PrecheckInput"]
    assert precheck["required"] == ["prompt"]
    assert {"prompt", "assistant", "mode", "has_images"} <= set(precheck["properties"])
    assert paths["/api/keys"]["post"]["responses"]["201"]


def test_schema_is_served_to_signed_in_callers(client, tenant) -> None:
    client.force_login(tenant.owner)

    response = client.get("/api/schema")

    assert response.status_code == 200
    assert b"openapi" in response.content

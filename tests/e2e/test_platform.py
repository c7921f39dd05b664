"""The local stack as a user meets it: health, OpenAPI, docs and the error envelope over HTTP."""

from __future__ import annotations

import pytest

from local.openapi import HTTP_FUNCTIONS, SPEC_PATH, generate

SERVICES = ("auth", "users", "airtable", "workflows", "files", "sagas", "notifications",
            "platform")


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_health_route_is_public_and_healthy(api, service):
    response = api.get(f"/api/{service}/health")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "healthy"
    assert body["service"] == service
    assert all(check["status"] == "ok" for check in body["checks"].values())
    assert response.headers["X-Request-Id"]


def test_aggregate_health_reports_all_eight_services_and_dependencies(api):
    response = api.get("/api/health")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "healthy"
    assert set(body["services"]) == set(SERVICES)
    assert all(s["status"] == "healthy" for s in body["services"].values())
    assert body["dependencies"] == {"database": "ok", "storage": "ok", "state_machines": "ok",
                                    "event_bus": "ok", "airtable": "ok"}


def test_airtable_health_fails_when_the_emulator_is_down(stack, api):
    # The Airtable check is answered from a result up to 60 s old: forget it to see the outage.
    table, key = stack.resource("CacheTable"), {"pk": {"S": "health#airtable"}}
    stack.airtable.stop()
    stack.client("dynamodb").delete_item(TableName=table, Key=key)
    try:
        response = api.get("/api/airtable/health")
        assert response.status_code == 503
        assert response.json()["checks"]["airtable"]["status"] == "error"
    finally:
        stack.airtable.start()
        stack.client("dynamodb").delete_item(TableName=table, Key=key)


def test_platform_info_is_public(api):
    body = api.get("/api/platform/info").json()
    assert body["name"] == "PyAirtable Serverless"
    assert set(body["services"]) == set(SERVICES)


def test_openapi_document_covers_every_route_of_every_service(api):
    response = api.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    for service in SERVICES:
        assert f"/api/{service}/health" in document["paths"]
    assert "/api/health" in document["paths"]
    assert document["paths"]["/api/health"]["get"]["security"] == []
    assert "ErrorEnvelope" in document["components"]["schemas"]


def test_committed_openapi_document_is_regenerated_from_the_code():
    assert SPEC_PATH.read_text(encoding="utf-8") == generate(), "run `make openapi`"
    assert len(HTTP_FUNCTIONS) == 8


def test_swagger_ui_is_served_without_a_cdn(api):
    response = api.get("/api/docs")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "SwaggerUIBundle" in response.text
    assert "cdn" not in response.text.split("<script")[0].lower()


def test_unknown_route_gets_the_404_envelope(api):
    response = api.get("/api/does-not-exist")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert error["request_id"] == response.headers["X-Request-Id"]


def test_private_route_without_credentials_gets_api_gateway_401(api):
    response = api.get("/api/users/me")
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


def test_private_route_with_refused_credentials_gets_api_gateway_403(api):
    response = api.get("/api/users/me", headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden"}


def test_cors_preflight_is_answered_by_the_gateway(api):
    response = api.options("/api/auth/login", headers={
        "Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_invalid_json_body_gets_a_422_envelope_not_a_500(api):
    response = api.post("/api/auth/login", data="{not json", headers={
        "Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"

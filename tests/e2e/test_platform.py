"""The local stack as a user meets it: health, OpenAPI, docs and the error envelope over HTTP."""

from __future__ import annotations

import pytest

from local.openapi import SPEC_PATH, generate
from local.services import http_services

SERVICES = http_services()


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


def test_swagger_ui_is_served_without_a_cdn_under_a_csp_of_its_own_files(api):
    import re

    response = api.get("/api/docs")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "<script>" not in response.text and "<style" not in response.text  # nothing inline
    files = re.findall(r'(?:src|href)="(/api/docs/[^"]+)"', response.text)
    assert len(files) == 3
    for path in files:
        asset = api.get(path)
        assert asset.status_code == 200, path
        assert asset.headers["Content-Security-Policy"] == csp
    assert "SwaggerUIBundle" in api.get("/api/docs/swagger-ui-bundle.js").text
    assert api.get("/api/docs/nope.js").status_code == 404


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


def test_cors_preflight_is_answered_by_the_gateway_for_the_web_uis_origin_only(api, stack):
    response = api.options("/api/auth/login", headers={
        "Origin": stack.web_url, "Access-Control-Request-Method": "POST"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == stack.web_url
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    elsewhere = api.options("/api/auth/login", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in elsewhere.headers


def test_invalid_json_body_gets_a_422_envelope_not_a_500(api):
    response = api.post("/api/auth/login", data="{not json", headers={
        "Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"

"""The error map: nesting limit on JSON bodies and a database outage as 503 with Retry-After."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from common.core.http import MAX_JSON_DEPTH, create_app, json_depth


def _event(method: str, path: str, body: str | None = None) -> dict[str, Any]:
    return {"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
            "headers": {"content-type": "application/json"}, "body": body,
            "isBase64Encoded": False,
            "requestContext": {"http": {"method": method, "path": path}, "requestId": "r1",
                               "stage": "$default"}}


class Payload(BaseModel):
    value: Any


def _app():
    app = create_app("test")

    @app.post("/echo")
    def echo(body: Payload) -> dict:  # validated (parsed) by Powertools before the route runs
        return {"received": body.value is not None}

    @app.get("/db")
    def db() -> dict:
        # A server nobody listens on: the driver cannot connect, as when the database is down.
        engine = create_engine("postgresql+pg8000://u:p@127.0.0.1:9/none",
                               connect_args={"timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {}

    return app


def _nested(levels: int) -> str:
    return "[" * levels + "1" + "]" * levels


def test_json_depth_counts_arrays_and_objects_but_not_brackets_in_strings():
    assert json_depth('{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert json_depth(_nested(100)) == 100
    assert json_depth('"\\"[[["') == 0


def test_json_nested_to_the_limit_is_accepted_and_deeper_is_422():
    app = _app()
    ok = app.resolve(_event("POST", "/echo", '{"value": ' + _nested(MAX_JSON_DEPTH - 1) + "}"), {})
    assert ok["statusCode"] == 200
    # Deep enough to break Python's recursive parser: a 500 before the limit existed.
    deep = app.resolve(_event("POST", "/echo", '{"value": ' + _nested(100_000) + "}"), {})
    assert deep["statusCode"] == 422
    error = json.loads(deep["body"])["error"]
    assert error["code"] == "validation_error"
    assert error["details"] == [{"field": "body", "problem": "nested deeper than 64"}]


def test_a_database_that_cannot_be_reached_is_503_with_retry_after():
    response = _app().resolve(_event("GET", "/db"), {})
    assert response["statusCode"] == 503
    assert int(response["headers"]["Retry-After"]) > 0
    error = json.loads(response["body"])["error"]
    assert error["code"] == "service_unavailable"
    assert "127.0.0.1" not in response["body"]


@pytest.mark.parametrize("exc", [OperationalError("SELECT 1", {}, Exception("gone"))])
def test_the_outage_rule_names_sqlalchemys_connection_errors(exc):
    from common.core.http import database_outage

    assert database_outage(exc) is not None
    assert database_outage(ValueError("x")) is None


@pytest.mark.parametrize(("content_type", "problem"), [
    ("text/plain", "must be application/json"),
    ("multipart/form-data", "Missing boundary in multipart/form-data content-type header"),
])
def test_a_body_its_content_type_cannot_describe_is_a_validation_error(content_type, problem):
    event = _event("POST", "/echo", '{"value": 1}')
    event["headers"]["content-type"] = content_type
    response = _app().resolve(event, {})
    assert response["statusCode"] == 422
    assert json.loads(response["body"])["error"]["details"] == [
        {"field": "Content-Type", "problem": problem}]


def test_an_error_response_carries_its_request_id_header():
    response = _app().resolve(_event("POST", "/echo", "not json"), {})
    assert response["statusCode"] == 422
    assert response["headers"]["X-Request-Id"] == "r1"
    assert json.loads(response["body"])["error"]["request_id"] == "r1"


def _with_query(event: dict[str, Any], **query: str) -> dict[str, Any]:
    return {**event, "queryStringParameters": query}


@pytest.mark.parametrize(("event", "field"), [
    # What `make fuzz` sent: GET /api/airtable/bases?connection_id=%00h answered 500.
    (_with_query(_event("GET", "/db"), connection_id="\x00h"), "connection_id"),
    (_event("POST", "/echo", '{"value": "a\\u0000b"}'), "body"),
    (_event("POST", "/echo", '{"value": "a\\\\\\u0000b"}'), "body"),  # \\ then the escape
])
def test_a_nul_character_anywhere_in_the_request_is_422_before_the_route_runs(event, field):
    response = _app().resolve(event, {})
    assert response["statusCode"] == 422
    error = json.loads(response["body"])["error"]
    assert error["code"] == "validation_error"
    assert error["details"] == [{"field": field, "problem": "contains NUL"}]


def test_an_escaped_backslash_before_u0000_is_text_not_nul():
    response = _app().resolve(_event("POST", "/echo", '{"value": "C:\\\\u0000"}'), {})
    assert response["statusCode"] == 200

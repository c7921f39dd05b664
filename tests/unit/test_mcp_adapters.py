"""The MCP function's own pieces: an HTTP API event through an ASGI app, and how a transaction
is reported to an agent (tests/e2e/test_mcp.py covers the endpoint over HTTP)."""

from __future__ import annotations

import base64
import json
import sys
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.helpers import ROOT

sys.path.insert(0, str(ROOT / "functions" / "mcp"))

from mcp_tools import asgi, transactions

EVENT = {"rawPath": "/api/mcp", "rawQueryString": "a=1&a=2",
         "headers": {"Host": "api.example.com", "content-type": "application/json"},
         "cookies": ["x=1", "y=2"],
         "requestContext": {"http": {"method": "post", "sourceIp": "10.0.0.1"}},
         "body": base64.b64encode(b'{"n": 1}').decode(), "isBase64Encoded": True}


def test_an_event_becomes_one_asgi_request_served_inside_the_apps_lifespan():
    seen: list[str] = []

    @asynccontextmanager
    async def lifespan(_app):
        seen.append("startup")
        yield
        seen.append("shutdown")

    async def echo(request: Request) -> JSONResponse:
        seen.append("request")
        return JSONResponse({"method": request.method, "path": request.url.path,
                             "query": request.query_params.getlist("a"),
                             "host": request.headers["host"], "cookies": request.cookies,
                             "body": await request.json()}, headers={"X-Extra": "1"})

    app = Starlette(routes=[Route("/api/mcp", echo, methods=["POST"])], lifespan=lifespan)
    response = asgi.respond(app, EVENT)
    assert seen == ["startup", "request", "shutdown"]
    assert response["statusCode"] == 200 and response["isBase64Encoded"] is False
    assert json.loads(response["body"]) == {
        "method": "POST", "path": "/api/mcp", "query": ["1", "2"], "host": "api.example.com",
        "cookies": {"x": "1", "y": "2"}, "body": {"n": 1}}
    # The gateway computes the length of what it sends; the app's own would be a second one.
    assert "content-length" not in response["headers"]
    assert response["headers"]["x-extra"] == "1"


SAGA = {"id": "sg1", "type": "airtable_transaction", "status": "compensated",
        "input": {"operations": [
            {"action": "create", "table": "Contacts", "records": [{"fields": {}}] * 2},
            {"action": "update", "table": "Deals", "records": [{"id": "rec1"}]}]},
        "steps": [{"index": 0, "name": "create Contacts", "status": "succeeded",
                   "started_at": "t", "finished_at": "t", "output": {"created": ["r1", "r2"]}},
                  {"index": 1, "name": "update Deals", "status": "failed",
                   "started_at": "t", "finished_at": "t",
                   "error": "Unknown field name: \"Colour\""}]}


def test_a_rolled_back_transaction_is_an_error_result_saying_where_it_failed():
    result = transactions.reported(SAGA)
    assert result.is_error
    assert result.content[0].text == (
        'Transaction sg1 failed at step 2 (update Deals): Unknown field name: "Colour"; '
        "everything it applied was rolled back.")
    assert result.structured_content["status"] == "compensated"
    assert "started_at" not in result.structured_content["steps"][0]


def test_a_transaction_is_reported_compactly_with_a_summary():
    result = transactions.reported({**SAGA, "status": "succeeded", "output": {"n": 1}})
    assert not result.is_error
    assert result.structured_content == {
        "transaction_id": "sg1", "status": "succeeded",
        "summary": "create 2 records in Contacts; update 1 record in Deals (succeeded)",
        "steps": [{k: v for k, v in s.items() if not k.endswith("_at")} for s in SAGA["steps"]],
        "output": {"n": 1}}
    assert json.loads(result.content[0].text) == result.structured_content

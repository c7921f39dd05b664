"""Traces never hold what a handler returns or raises: tokens, API keys and record data stay out.

The X-Ray SDK sends its documents over UDP to the daemon; here a socket takes the daemon's
place and the test reads exactly what would reach X-Ray.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aws_xray_sdk import global_sdk_config
from aws_xray_sdk.core import xray_recorder

from common.core.http import create_app
from common.core.lambda_handlers import http_handler
from common.core.observability import metrics, traced

SECRET = "pyat_supersecret_ShouldNeverBeTraced"


class _Context:
    function_name = "fn"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"
    memory_limit_in_mb = 128
    aws_request_id = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@pytest.fixture
def daemon(monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """A UDP socket where the X-Ray daemon would listen, with tracing switched on."""
    monkeypatch.setattr(metrics, "namespace", "Test")  # the template sets it for functions
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")  # in Lambda, where tracing is on
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)
    was_enabled = global_sdk_config.sdk_enabled()
    global_sdk_config.set_sdk_enabled(True)
    xray_recorder.configure(daemon_address=f"127.0.0.1:{sock.getsockname()[1]}")
    try:
        yield sock
    finally:
        xray_recorder.configure(daemon_address="127.0.0.1:2000")
        global_sdk_config.set_sdk_enabled(was_enabled)
        sock.close()


def _traced_call(daemon: socket.socket, handler: Any, event: dict[str, Any]) -> str:
    """Run `handler` inside a segment and return every document the daemon received."""
    xray_recorder.begin_segment("test")
    try:
        handler(event, _Context())
    except RuntimeError:
        pass
    finally:
        xray_recorder.end_segment()
    documents = []
    try:
        while True:
            documents.append(daemon.recv(65_535).decode())
    except TimeoutError:
        pass
    return "\n".join(documents)


def _http_event(path: str) -> dict[str, Any]:
    return {"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
            "headers": {}, "isBase64Encoded": False,
            "requestContext": {"http": {"method": "GET", "path": path}, "requestId": "r1",
                               "stage": "$default"}}


def test_an_http_handlers_response_is_not_in_the_trace(daemon):
    app = create_app("test")

    @app.get("/token")
    def token() -> dict:
        return {"access_token": SECRET}

    sent = _traced_call(daemon, http_handler(app), _http_event("/token"))
    assert "## lambda_handler" in sent  # the handler was traced
    assert SECRET not in sent
    assert "lambda_handler response" not in sent


def test_a_raised_errors_payload_is_not_in_the_trace_metadata(daemon):
    @traced
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("failed")

    sent = _traced_call(daemon, lambda_handler, {})
    assert "## lambda_handler" in sent
    assert "lambda_handler error" not in sent  # Powertools' metadata copy of the exception


def test_the_template_turns_capture_off_for_every_function(daemon, monkeypatch):
    # A handler decorated the plain way (no arguments) still records nothing: the template's
    # Globals set Powertools' switches for every function.
    from samcli.yamlhelper import yaml_parse

    from common.core.observability import tracer
    from tests.helpers import ROOT

    template = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    for name in ("POWERTOOLS_TRACER_CAPTURE_RESPONSE", "POWERTOOLS_TRACER_CAPTURE_ERROR"):
        assert variables[name] == "false"
        monkeypatch.setenv(name, variables[name])

    @tracer.capture_lambda_handler
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"refresh_token": SECRET}

    sent = _traced_call(daemon, lambda_handler, {})
    assert "## lambda_handler" in sent
    assert SECRET not in sent

"""The migrations custom resource answers CloudFormation on every path before its timeout: a
success, a failure with its reason, and an action still running when the time is up."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from common.core import custom_resource
from tests.helpers import load_event


class _CloudFormation(BaseHTTPRequestHandler):
    answers: list[dict[str, Any]] = []

    def do_PUT(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).answers.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def cloudformation() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A ResponseURL that records the answers PUT to it."""
    _CloudFormation.answers = []
    server = HTTPServer(("127.0.0.1", 0), _CloudFormation)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/answer", _CloudFormation.answers
    finally:
        server.shutdown()
        server.server_close()


class _Context:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


def _event(url: str) -> dict[str, Any]:
    return {**load_event("migrations/create.json"), "ResponseURL": url}


def test_a_finished_action_answers_success_with_its_data(cloudformation):
    url, answers = cloudformation
    custom_resource.handle(_event(url), lambda kind: {"Revision": f"{kind}-0009"}, _Context(300))
    assert [(a["Status"], a["Data"]) for a in answers] == [("SUCCESS", {"Revision": "Create-0009"})]
    assert answers[0]["PhysicalResourceId"] == "DatabaseMigrations"


def test_a_failing_action_answers_failed_with_the_reason(cloudformation):
    url, answers = cloudformation

    def fail(kind: str) -> dict[str, Any]:
        raise KeyError("host")

    custom_resource.handle(_event(url), fail, _Context(300))
    assert [(a["Status"], a["Reason"]) for a in answers] == [("FAILED", "KeyError: 'host'")]


def test_an_action_still_running_when_time_runs_out_answers_failed(cloudformation):
    url, answers = cloudformation
    release = threading.Event()
    try:
        custom_resource.handle(_event(url), lambda kind: release.wait(60) and {},
                               _Context(custom_resource.ANSWER_SECONDS + 0.2))
    finally:
        release.set()
    [answer] = answers
    assert answer["Status"] == "FAILED"
    assert "did not finish" in answer["Reason"]


def test_a_response_url_that_is_not_http_is_refused_before_anything_runs():
    ran = []
    with pytest.raises(ValueError, match="ResponseURL"):
        custom_resource.handle(_event("file:///etc/passwd"), lambda kind: ran.append(kind) or {})
    assert ran == []

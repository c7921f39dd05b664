"""Every sample event in events/ runs through its function's handler, in its own worker."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers import ROOT, load_event

# Logical id in template.yaml for each folder of events/.
FUNCTIONS = {"auth": "AuthFunction", "users": "UsersFunction", "airtable": "AirtableFunction",
             "workflows": "WorkflowsFunction", "files": "FilesFunction", "sagas": "SagasFunction",
             "notifications": "NotificationsFunction", "platform": "PlatformFunction",
             "authorizer": "AuthorizerFunction", "files_processor": "FilesProcessorFunction",
             "notifications_dispatcher": "NotificationsDispatcherFunction",
             "diagnostics": "DiagnosticsFunction", "housekeeping": "HousekeepingFunction",
             "file_jobs": "FileJobsFunction", "saga_tasks": "SagaTasksFunction",
             "migrations": "MigrationsFunction", "workflow_step": "WorkflowStepFunction",
             "workflow_triggers": "WorkflowTriggersFunction",
             "webhook_delivery": "WebhookDeliveryFunction",
             "usage_aggregator": "UsageAggregatorFunction", "mcp": "McpFunction"}
# Samples whose expected outcome is not "HTTP 2xx / no error".
# The MCP sample's bearer names nobody: the endpoint answers OAuth's 401 challenge.
EXPECTED_STATUS = {"platform/unknown-route.json": 404, "mcp/tools-list.json": 401}
# The saga samples name a saga a fresh stack does not have: its steps stop the execution.
EXPECTED_ERROR = {"diagnostics/probe-fails.json": "ProbeFailed",
                  "saga_tasks/transaction-apply.json": "SagaGone",
                  "saga_tasks/onboarding-step.json": "SagaGone",
                  "saga_tasks/integration-step.json": "SagaGone"}
SAMPLES = sorted(str(p.relative_to(ROOT / "events")) for p in (ROOT / "events").rglob("*.json"))


def test_every_function_has_sample_events():
    assert {s.split("/")[0] for s in SAMPLES} == set(FUNCTIONS)


@pytest.mark.parametrize("sample", SAMPLES)
def test_sample_event_runs_through_its_handler(stack, sample):
    if sample.startswith("files_processor/"):
        record = load_event(sample)["Records"][0]["s3"]
        stack.client("s3").put_object(Bucket=record["bucket"]["name"],
                                      Key=record["object"]["key"].replace("+", " "),
                                      Body=b"Name,Email\n")
    event = load_event(sample)
    if sample.startswith("migrations/"):
        with _cloudformation_endpoint() as (url, responses):
            event["ResponseURL"] = url
            result = stack.invoke(FUNCTIONS["migrations"], event)
        assert [r["Status"] for r in responses] == ["SUCCESS"], responses
        assert responses[0]["Data"]["Revision"]
    else:
        result = stack.invoke(FUNCTIONS[sample.split("/")[0]], event)
    if sample in EXPECTED_ERROR:
        assert result.error["errorType"] == EXPECTED_ERROR[sample]
        return
    assert result.error is None, result.error
    if isinstance(result.payload, dict) and "statusCode" in result.payload:
        expected = EXPECTED_STATUS.get(sample)
        status = result.payload["statusCode"]
        assert status == expected if expected else 200 <= status < 300, result.payload


@contextlib.contextmanager
def _cloudformation_endpoint():
    """A local stand-in for CloudFormation's presigned response URL, recording each PUT."""
    responses: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self):
            responses.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/response", responses
    finally:
        server.shutdown()
        server.server_close()


def test_docker_free_invoke_command_runs_one_function_with_a_sample_event(database_url):
    env = {**os.environ, "DATABASE_URL": database_url}
    completed = subprocess.run(
        [sys.executable, "-m", "local.runtime", "invoke", "PlatformFunction",
         "-e", "events/platform/info.json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    response = json.loads(completed.stdout[completed.stdout.index("{"):])
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["name"] == "PyAirtable Serverless"
    assert "REPORT Duration" in completed.stderr


def test_invoke_command_takes_sam_style_env_vars(database_url, tmp_path: Path):
    overrides = tmp_path / "env.json"
    overrides.write_text(json.dumps({"PlatformFunction": {"STAGE": "staging"}}))
    completed = subprocess.run(
        [sys.executable, "-m", "local.runtime", "invoke", "PlatformFunction",
         "-e", "events/platform/info.json", "--env-vars", str(overrides)],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": database_url}, capture_output=True,
        text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    response = json.loads(completed.stdout[completed.stdout.index("{"):])
    assert json.loads(response["body"])["stage"] == "staging"

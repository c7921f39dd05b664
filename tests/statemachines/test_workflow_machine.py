"""The workflow state machine, executed by moto's interpreter with the step runner in-process.

Real parts: the ASL of statemachines/workflow.asl.json (Retry, Catch, Choice, Wait), the step
runner, PostgreSQL (or SQLite), the Airtable emulator behind pyairtable and the shared limiter,
an HTTP server for http_request, and EventBridge -> SQS for the events published.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from local.airtable_emulator import AirtableEmulator
from tests.helpers import wait_for
from tests.statemachines.harness import member, moto_for_tasks

TOKEN = "patWORKFLOWS"
PEOPLE = [{"name": "Name", "type": "singleLineText"}, {"name": "Email", "type": "email"},
          {"name": "Age", "type": "number", "options": {"precision": 0}}]
COPIES = [{"name": "Label", "type": "singleLineText"}, {"name": "Source", "type": "singleLineText"}]


class _Receiver(BaseHTTPRequestHandler):
    calls: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        self.calls.append({"path": self.path, "body": json.loads(body or b"null")})
        payload = json.dumps({"ok": True, "seen": len(self.calls)}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def machine(database_url: str) -> Iterator[dict[str, Any]]:
    """moto with the workflow machine, an emulator base, a member with a workspace."""
    from moto.awslambda.models import LambdaFunction

    from common.core.identity import Identity
    from common.core.settings import get_settings

    emulator = AirtableEmulator(tokens={TOKEN: "usrWORKFLOWS00001"}, rate_limit=None).start()
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        with moto_for_tasks("workflow", database_url, emulator.url, TOKEN,
                            ALLOW_PRIVATE_WEBHOOKS="true", OUTBOUND_HTTPS_ONLY="false") as aws:
            events, sqs = aws.session.client("events"), aws.session.client("sqs")
            queue_url = sqs.create_queue(QueueName="workflow-events")["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=[
                "QueueArn"])["Attributes"]["QueueArn"]
            events.put_rule(Name="all", EventBusName="workflow-tests",
                            EventPattern=json.dumps({"source": ["pyairtable"]}))
            events.put_targets(Rule="all", EventBusName="workflow-tests",
                               Targets=[{"Id": "q", "Arn": queue_arn}])
            os.environ["WORKFLOW_STATE_MACHINE_ARN"] = aws.machine(
                "workflow", "workflow", {"WorkflowStepFunctionArn": aws.function("workflow-step")})
            get_settings.cache_clear()
            LambdaFunction._invoke_lambda = _in_process
            user_id, workspace_id = member("wf")
            yield {"sfn": aws.session.client("stepfunctions"), "sqs": sqs,
                   "queue_url": queue_url, "emulator": emulator,
                   "receiver": f"http://127.0.0.1:{receiver.server_address[1]}",
                   "identity": Identity(user_id=user_id, role="member"),
                   "workspace_id": workspace_id,
                   "base_id": emulator.create_base("Workflows", tables=[
                       {"name": "People", "fields": PEOPLE},
                       {"name": "Copies", "fields": COPIES}])}
    finally:
        receiver.shutdown()
        emulator.stop()


def _in_process(function: Any, event: Any = None) -> tuple[str, bool, str]:
    """The step runner as Lambda runs it: the event in, the result or a named error out."""
    from common.workflows import runner

    try:
        return json.dumps(runner.handler(event or {}), default=str), False, ""
    except Exception as e:  # reported as Lambda reports a function error, by its type name
        return json.dumps({"errorType": type(e).__name__, "errorMessage": str(e)}), True, ""


# ---------------------------------------------------------------- helpers
def _create(machine: dict[str, Any], steps: list[dict[str, Any]],
            trigger: dict[str, Any] | None = None) -> dict[str, Any]:
    from common.core.db import UnitOfWork
    from common.workflows import service
    from common.workflows.definitions import WorkflowIn

    body = WorkflowIn.model_validate({"name": f"wf {uuid.uuid4().hex[:6]}",
                                      "trigger": trigger or {"type": "manual"}, "steps": steps})
    return service.create(body, UnitOfWork(), machine["identity"]).model_dump(mode="json")


def _run(machine: dict[str, Any], steps: list[dict[str, Any]],
         payload: dict[str, Any] | None = None, wait: bool = True) -> dict[str, Any]:
    from common.core.db import UnitOfWork
    from common.workflows import service
    from common.workflows.commands import ExecuteWorkflow

    workflow = _create(machine, steps)
    started = service.execute(ExecuteWorkflow(workflow_id=workflow["id"], input=payload or {}),
                              UnitOfWork(), machine["identity"]).model_dump(mode="json")
    return _finished(machine, started["execution_id"]) if wait else started


def _execution(machine: dict[str, Any], execution_id: str) -> dict[str, Any]:
    from common.core.db import UnitOfWork
    from common.workflows import service

    return service.get_execution(execution_id, UnitOfWork(),
                                 machine["identity"]).model_dump(mode="json")


def _machine_execution(machine: dict[str, Any], execution_id: str) -> dict[str, Any]:
    arn = _arn(machine, execution_id)
    return machine["sfn"].describe_execution(executionArn=arn)


def _arn(machine: dict[str, Any], execution_id: str) -> str:
    from common.core.db import UnitOfWork
    from common.core.models import WorkflowExecution

    with UnitOfWork() as uow:
        return uow.session.get(WorkflowExecution, execution_id).state_machine_execution


def _finished(machine: dict[str, Any], execution_id: str, timeout: float = 60) -> dict[str, Any]:
    wait_for(lambda: _machine_execution(machine, execution_id)["status"] != "RUNNING",
             timeout=timeout)
    return _execution(machine, execution_id)


def _states_entered(machine: dict[str, Any], execution_id: str) -> list[str]:
    history = machine["sfn"].get_execution_history(
        executionArn=_arn(machine, execution_id), maxResults=1000)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in history
            if e["type"].endswith("StateEntered")]


def _events(machine: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    while True:
        messages = machine["sqs"].receive_message(QueueUrl=machine["queue_url"],
                                                  MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(message["Body"]))
            machine["sqs"].delete_message(QueueUrl=machine["queue_url"],
                                          ReceiptHandle=message["ReceiptHandle"])


def _steps_by_id(execution: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in execution["steps"]}


def _people(machine: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    from pyairtable import Api

    table = Api(TOKEN, endpoint_url=machine["emulator"].url).table(machine["base_id"], "People")
    return [r["id"] for r in table.batch_create(rows)]


def _copies(machine: dict[str, Any]) -> list[dict[str, Any]]:
    from pyairtable import Api

    return Api(TOKEN, endpoint_url=machine["emulator"].url).table(
        machine["base_id"], "Copies").all()


# ---------------------------------------------------------------- behaviour
def test_every_step_type_runs_and_later_steps_see_earlier_outputs(machine):
    tag = uuid.uuid4().hex[:6]
    _people(machine, [{"Name": f"Ada {tag}", "Email": "ada@example.com", "Age": 36},
                      {"Name": f"Bob {tag}", "Age": 12}])
    base = machine["base_id"]
    steps = [
        {"id": "people", "type": "airtable.list_records",
         "config": {"base_id": base, "table": "People",
                    "formula": f"FIND('{tag}', {{Name}})"}},
        {"id": "labels", "type": "transform",
         "config": {"items": "{{ steps.people.records }}",
                    "fields": {"Label": "{{ item.fields.Name }} <{{ item.fields.Email }}>",
                               "Source": "{{ input.source }}"}}},
        {"id": "copy", "type": "airtable.create_records",
         "config": {"base_id": base, "table": "Copies", "records": "{{ steps.labels.records }}"}},
        {"id": "two", "type": "condition",
         "config": {"left": "{{ steps.copy.records }}", "op": "empty"}, "on_error": "fail"},
        {"id": "some", "type": "condition",
         "config": {"left": "{{ steps.people.records[0].fields.Age }}", "op": "gt",
                    "right": 18}},
        {"id": "ping", "type": "http_request",
         "config": {"method": "POST", "url": machine["receiver"] + "/hook",
                    "body": {"first": "{{ steps.copy.records[0].id }}"}}},
        {"id": "relabel", "type": "airtable.update_records",
         "config": {"base_id": base, "table": "Copies",
                    "records": [{"id": "{{ steps.copy.records[0].id }}",
                                 "fields": {"Label": "renamed {{ steps.ping.status }}"}}]}},
        {"id": "merge", "type": "airtable.upsert_records",
         "config": {"base_id": base, "table": "Copies", "merge_on": ["Label"],
                    "records": [{"fields": {"Label": "renamed 201", "Source": "upserted"}},
                                {"fields": {"Label": f"new {tag}"}}]}},
        {"id": "drop", "type": "airtable.delete_records",
         "config": {"base_id": base, "table": "Copies", "ids": "{{ steps.merge.created_ids }}"}},
        {"id": "tell", "type": "notify",
         "config": {"title": "Copied {{ steps.people.records[0].fields.Name }}", "body": "done"}},
    ]
    # `two` is false (not empty): the execution would end there, so it is left out of this run.
    steps.pop(3)
    _events(machine)
    execution = _run(machine, steps, {"source": f"test {tag}"})
    assert execution["status"] == "succeeded", execution
    by_id = _steps_by_id(execution)
    assert all(s["status"] == "succeeded" for s in execution["steps"]), execution["steps"]
    assert [r["fields"]["Label"] for r in by_id["labels"]["output"]["records"]] == [
        f"Ada {tag} <ada@example.com>", f"Bob {tag} <>"]
    assert by_id["some"]["output"] == {"result": True}
    assert by_id["ping"]["output"]["status"] == 201
    assert _Receiver.calls[-1] == {"path": "/hook", "body": {
        "first": by_id["copy"]["output"]["records"][0]["id"]}}
    assert by_id["merge"]["output"]["updated_ids"] == [by_id["copy"]["output"]["records"][0]["id"]]
    assert by_id["drop"]["output"]["deleted"] == by_id["merge"]["output"]["created_ids"]
    copies = sorted((r["fields"].get("Label"), r["fields"].get("Source")) for r in _copies(machine)
                    if tag in r["fields"].get("Source", "") or r["fields"].get("Source") ==
                    "upserted")
    assert copies == [(f"Bob {tag} <>", f"test {tag}"), ("renamed 201", "upserted")]
    for step in execution["steps"]:
        assert step["started_at"] and step["finished_at"] and step["duration_ms"] >= 0
    assert by_id["copy"]["input"]["records"][0]["fields"]["Source"] == f"test {tag}"
    types = [e["detail-type"] for e in _events(machine)]
    assert "workflow.notification" in types and "workflow.execution.finished" in types
    # Two states per step (the task and the routing choice), then Done.
    assert _states_entered(machine, execution["id"]) == ["RunStep", "Route"] * len(steps) + [
        "Done"]


def test_a_failing_step_with_on_error_fail_fails_the_execution_and_skips_the_rest(machine):
    _events(machine)
    execution = _run(machine, [
        {"id": "bad", "type": "airtable.create_records",
         "config": {"base_id": machine["base_id"], "table": "No such table",
                    "records": [{"fields": {"Name": "x"}}]}},
        {"id": "after", "type": "notify", "config": {"title": "never"}}])
    assert execution["status"] == "failed"
    assert _machine_execution(machine, execution["id"])["status"] == "FAILED"
    bad, after = execution["steps"]
    assert bad["status"] == "failed" and bad["error"]["code"] == "not_found"
    assert after["status"] == "skipped"
    assert execution["error"]["step"] == "bad"
    failed = [e for e in _events(machine) if e["detail-type"] == "workflow.execution.failed"]
    assert [e["detail"]["execution_id"] for e in failed] == [execution["id"]]
    assert _states_entered(machine, execution["id"]) == ["RunStep", "RecordFailure", "Failed"]


def test_a_failing_step_with_on_error_continue_lets_the_rest_run(machine):
    execution = _run(machine, [
        {"id": "bad", "type": "airtable.create_records", "on_error": "continue",
         "config": {"base_id": machine["base_id"], "table": "No such table",
                    "records": [{"fields": {"Name": "x"}}]}},
        {"id": "after", "type": "condition",
         "config": {"left": "{{ steps.bad.error.code }}", "op": "eq", "right": "not_found"}}])
    assert execution["status"] == "succeeded"
    bad, after = execution["steps"]
    assert (bad["status"], bad.get("continued")) == ("failed", True)
    assert after["status"] == "succeeded" and after["output"] == {"result": True}


def test_a_false_condition_ends_the_execution_early_as_succeeded(machine):
    execution = _run(machine, [
        {"id": "check", "type": "condition",
         "config": {"left": "{{ input.count }}", "op": "gt", "right": 10}},
        {"id": "never", "type": "http_request",
         "config": {"method": "POST", "url": machine["receiver"] + "/never"}}],
        {"count": 3})
    assert execution["status"] == "succeeded"
    check, never = execution["steps"]
    assert check["output"] == {"result": False} and check.get("ended_execution") is True
    assert never["status"] == "skipped"
    assert all(call["path"] != "/never" for call in _Receiver.calls)


def test_a_delay_is_a_wait_state_not_a_sleeping_task(machine):
    execution = _run(machine, [
        {"id": "pause", "type": "delay", "config": {"seconds": 2}},
        {"id": "then", "type": "condition", "config": {"left": 1, "op": "eq", "right": 1}}])
    assert execution["status"] == "succeeded"
    pause = execution["steps"][0]
    assert pause["status"] == "succeeded"
    assert pause["duration_ms"] >= 2000
    assert _states_entered(machine, execution["id"]) == [
        "RunStep", "Route", "Delay", "RunStep", "Route", "Done"]


def test_a_cancelled_execution_stops_and_runs_nothing_more(machine):
    from common.core.db import UnitOfWork
    from common.workflows import service

    def steps(path: str) -> list[dict[str, Any]]:
        return [{"id": "pause", "type": "delay", "config": {"seconds": 2}},
                {"id": "after", "type": "http_request",
                 "config": {"method": "POST", "url": machine["receiver"] + path}}]

    tag = uuid.uuid4().hex[:8]
    execution_id = _run(machine, steps(f"/cancelled-{tag}"), wait=False)["execution_id"]
    wait_for(lambda: _execution(machine, execution_id)["steps"][0]["status"] == "waiting")
    assert service.cancel(execution_id, UnitOfWork(), machine["identity"]).status == "cancelled"
    # A twin started after the cancel waits as long: once its request has arrived, the
    # cancelled one's next step would have run too, had the machine not stopped.
    twin = _run(machine, steps(f"/twin-{tag}"))
    assert twin["status"] == "succeeded"
    assert [c["path"] for c in _Receiver.calls].count(f"/twin-{tag}") == 1
    assert f"/cancelled-{tag}" not in [c["path"] for c in _Receiver.calls]
    assert _machine_execution(machine, execution_id)["status"] == "ABORTED"
    assert _states_entered(machine, execution_id) == ["RunStep", "Route", "Delay"]
    execution = _execution(machine, execution_id)
    assert execution["status"] == "cancelled"
    assert [s["status"] for s in execution["steps"]] == ["cancelled", "skipped"]


def test_a_transient_failure_is_retried_by_the_machine_then_on_error_applies(machine):
    with ThreadingHTTPServer(("127.0.0.1", 0), _Receiver) as closed:
        port = closed.server_address[1]  # nothing listens there once closed
    execution = _run(machine, [
        {"id": "call", "type": "http_request", "on_error": "continue",
         "config": {"method": "GET", "url": f"http://127.0.0.1:{port}/"}},
        {"id": "after", "type": "condition", "config": {"left": 1, "op": "eq", "right": 1}}])
    assert execution["status"] == "succeeded"
    call = execution["steps"][0]
    assert call["attempts"] == 3 and call["error"]["code"] == "upstream_error"
    assert call.get("continued") is True


def test_outputs_stay_out_of_the_state_so_large_ones_never_hit_the_payload_limit(machine):
    rows = [{"n": i, "text": "x" * 200} for i in range(2000)]  # ~450 KB
    execution = _run(machine, [
        {"id": "big", "type": "transform",
         "config": {"items": "{{ input.rows }}", "fields": {"Text": "{{ item.text }}"}}},
        {"id": "count", "type": "condition",
         "config": {"left": "{{ steps.big.records[1999].fields.Text }}", "op": "contains",
                    "right": "xxx"}}],
        {"rows": rows})
    assert execution["status"] == "succeeded"
    big = execution["steps"][0]
    assert big["output_bytes"] > 256 * 1024 and big["output_truncated"] is True
    assert execution["steps"][1]["output"] == {"result": True}
    history = machine["sfn"].get_execution_history(executionArn=_arn(machine, execution["id"]))
    largest = max(len(json.dumps(e, default=str)) for e in history["events"])
    assert largest < 2048


def test_an_http_request_to_the_metadata_address_never_sends(machine):
    from common.core.errors import ValidationFailed

    metadata = "http://169.254.169.254/latest/meta-data/"
    with pytest.raises(ValidationFailed, match="link-local"):  # a literal URL: at save time
        _create(machine, [{"id": "meta", "type": "http_request", "config": {"url": metadata}}])
    execution = _run(machine, [  # a URL from a template: at send time
        {"id": "meta", "type": "http_request", "config": {"url": "{{ input.url }}"}}],
        {"url": metadata})
    assert execution["status"] == "failed"
    meta = execution["steps"][0]
    assert meta["error"]["code"] == "refused_target"
    assert meta["attempts"] == 1  # refused, not retried


# ---------------------------------------------------------------- triggers
def _tick() -> dict[str, int]:
    from common.workflows import triggers

    return triggers.tick()


def _executions_of(machine: dict[str, Any], workflow_id: str) -> list[dict[str, Any]]:
    from common.core.db import UnitOfWork
    from common.workflows import service
    from common.workflows.commands import ListExecutions

    page = service.list_executions(ListExecutions(workflow_id=workflow_id), UnitOfWork(),
                                   machine["identity"])
    return page.model_dump(mode="json")["items"]


def _make_due(workflow_id: str) -> None:
    from datetime import UTC, datetime, timedelta

    from common.core.db import UnitOfWork
    from common.core.models import Workflow

    with UnitOfWork() as uow:
        uow.session.get(Workflow, workflow_id).next_run_at = datetime.now(UTC) - timedelta(
            seconds=1)
        uow.commit()


def test_a_due_schedule_starts_one_run_per_slot(machine):
    workflow = _create(machine, [{"id": "c", "type": "condition",
                                  "config": {"left": 1, "op": "eq", "right": 1}}],
                       {"type": "schedule", "schedule": "rate(5 minutes)"})
    assert workflow["next_run_at"] is not None
    _tick()
    assert _executions_of(machine, workflow["id"]) == []  # not due yet
    _make_due(workflow["id"])
    _tick()
    _tick()
    (run,) = _executions_of(machine, workflow["id"])
    assert run["trigger"]["type"] == "schedule"
    assert _finished(machine, run["id"])["status"] == "succeeded"


def test_a_tick_killed_before_a_scheduled_start_loses_no_run(machine, monkeypatch):
    from common.workflows import service

    workflow = _create(machine, [{"id": "c", "type": "condition",
                                  "config": {"left": 1, "op": "eq", "right": 1}}],
                       {"type": "schedule", "schedule": "rate(5 minutes)"})
    _make_due(workflow["id"])
    real_start = service.start

    def killed(uow: Any, flow: Any, *args: Any) -> Any:
        if flow.id == workflow["id"]:
            raise RuntimeError("the tick's sandbox is killed")
        return real_start(uow, flow, *args)

    monkeypatch.setattr(service, "start", killed)
    with pytest.raises(RuntimeError):
        _tick()
    monkeypatch.setattr(service, "start", real_start)
    _tick()
    _tick()
    (run,) = _executions_of(machine, workflow["id"])
    assert _finished(machine, run["id"])["status"] == "succeeded"


def test_an_airtable_change_starts_a_run_with_the_changed_records(machine):
    from pyairtable import Api

    workflow = _create(machine, [{"id": "c", "type": "condition",
                                  "config": {"left": "{{ input.created }}", "op": "empty"},
                                  "on_error": "fail"}],
                       {"type": "airtable_change", "base_id": machine["base_id"],
                        "table": "People", "changes": ["created", "deleted"]})
    assert workflow["watch"]["webhook_id"].startswith("ach")
    people = Api(TOKEN, endpoint_url=machine["emulator"].url).table(machine["base_id"], "People")
    _tick()
    assert _executions_of(machine, workflow["id"]) == []
    made = people.create({"Name": "Watched", "Age": 5})
    people.update(made["id"], {"Age": 6})  # updates are not watched by this workflow
    _tick()
    _tick()
    (run,) = _executions_of(machine, workflow["id"])
    execution = _finished(machine, run["id"])
    assert execution["input"]["created"] == [
        {"id": made["id"], "fields": {"Name": "Watched", "Age": 5}}]
    assert execution["input"]["updated"] == [] and execution["input"]["deleted"] == []


def _watching(machine: dict[str, Any], name: str, table: str) -> dict[str, Any]:
    from common.core.db import UnitOfWork
    from common.workflows import service
    from common.workflows.definitions import WorkflowIn

    return service.create(WorkflowIn.model_validate({
        "name": name, "trigger": _change_trigger(machine, table),
        "steps": [{"id": "c", "type": "condition", "config": {"left": 1, "op": "eq",
                                                              "right": 1}}]}),
        UnitOfWork(), machine["identity"]).model_dump(mode="json")


def _change_trigger(machine: dict[str, Any], table: str) -> dict[str, Any]:
    return {"type": "airtable_change", "base_id": machine["base_id"], "table": table,
            "changes": ["created"]}


def _committed_trigger(name: str) -> dict[str, Any] | None:
    """The trigger of the workflow named so, as another connection reads it (committed)."""
    from sqlalchemy import select

    from common.core.db import UnitOfWork
    from common.core.models import Workflow

    with UnitOfWork() as uow:
        return uow.session.scalar(select(Workflow.trigger).where(Workflow.name == name))


def _airtable_webhooks(machine: dict[str, Any]) -> set[str]:
    from pyairtable import Api

    base = Api(TOKEN, endpoint_url=machine["emulator"].url).base(machine["base_id"])
    return {hook.id for hook in base.webhooks()}


def test_airtable_webhooks_are_created_and_deleted_only_once_the_save_is_committed(
        machine, monkeypatch):
    from common.core.db import UnitOfWork
    from common.workflows import service, watches
    from common.workflows.commands import ReplaceWorkflow
    from common.workflows.definitions import WorkflowIn

    name = f"watched {uuid.uuid4().hex[:6]}"
    seen: list[tuple[str, Any]] = []
    real_add, real_remove = watches.add, watches.remove

    def add(*args: Any) -> dict[str, Any]:
        seen.append(("add", _committed_trigger(name)))
        return real_add(*args)

    def remove(*args: Any) -> None:
        seen.append(("remove", _committed_trigger(name)))
        real_remove(*args)

    monkeypatch.setattr(watches, "add", add)
    monkeypatch.setattr(watches, "remove", remove)
    workflow = _watching(machine, name, "People")
    first_hook = workflow["watch"]["webhook_id"]
    body = WorkflowIn.model_validate({
        "name": name, "trigger": _change_trigger(machine, "Copies"),
        "steps": [{"id": "c", "type": "condition", "config": {"left": 1, "op": "eq",
                                                              "right": 1}}]})
    moved = service.replace(ReplaceWorkflow(workflow_id=workflow["id"], body=body),
                            UnitOfWork(), machine["identity"])
    second_hook = moved.watch.webhook_id
    hooks = _airtable_webhooks(machine)
    assert second_hook in hooks and first_hook not in hooks
    service.delete(workflow["id"], UnitOfWork(), machine["identity"])
    people, copies = _change_trigger(machine, "People"), _change_trigger(machine, "Copies")
    # Each webhook call saw the save it belongs to already committed.
    assert seen == [("add", people), ("add", copies), ("remove", copies), ("remove", None)]
    assert {first_hook, second_hook} & _airtable_webhooks(machine) == set()


def test_a_webhook_that_cannot_be_created_undoes_the_save(machine):
    from common.core.db import UnitOfWork
    from common.core.errors import ValidationFailed
    from common.workflows import service
    from common.workflows.commands import ReplaceWorkflow
    from common.workflows.definitions import WorkflowIn

    name = f"unwatchable {uuid.uuid4().hex[:6]}"
    with pytest.raises(ValidationFailed, match="no table 'Nope'"):
        _watching(machine, name, "Nope")
    assert _committed_trigger(name) is None  # the new workflow is gone with its save
    workflow = _watching(machine, name, "People")
    body = WorkflowIn.model_validate({
        "name": "renamed", "trigger": _change_trigger(machine, "Nope"),
        "steps": [{"id": "d", "type": "delay", "config": {"seconds": 1}}]})
    with pytest.raises(ValidationFailed, match="no table 'Nope'"):
        service.replace(ReplaceWorkflow(workflow_id=workflow["id"], body=body), UnitOfWork(),
                        machine["identity"])
    kept = service.get(workflow["id"], UnitOfWork(), machine["identity"]).model_dump(mode="json")
    assert kept["name"] == name and kept["trigger"] == _change_trigger(machine, "People")
    assert kept["watch"] == workflow["watch"]
    assert workflow["watch"]["webhook_id"] in _airtable_webhooks(machine)
    service.delete(workflow["id"], UnitOfWork(), machine["identity"])


def test_a_tick_killed_between_two_starts_loses_no_change_and_runs_none_twice(
        machine, monkeypatch):
    from pyairtable import Api

    from common.core.db import UnitOfWork
    from common.workflows import service

    workflow = _watching(machine, f"killed {uuid.uuid4().hex[:6]}", "People")
    people = Api(TOKEN, endpoint_url=machine["emulator"].url).table(machine["base_id"], "People")
    made = [people.create({"Name": f"Change {n}"})["id"] for n in (1, 2)]  # two payloads
    real_start, calls = service.start, []

    def dies_at_the_second(uow: Any, flow: Any, *args: Any) -> Any:
        if flow.id == workflow["id"]:
            calls.append(args)
            if len(calls) == 2:
                raise RuntimeError("the tick's sandbox is killed")
        return real_start(uow, flow, *args)

    monkeypatch.setattr(service, "start", dies_at_the_second)
    with pytest.raises(RuntimeError):
        _tick()
    assert len(_executions_of(machine, workflow["id"])) == 1
    monkeypatch.setattr(service, "start", real_start)
    _tick()
    _tick()
    runs = _executions_of(machine, workflow["id"])
    details = [_execution(machine, run["id"]) for run in runs]
    created = sorted(r["id"] for d in details for r in d["input"]["created"])
    assert created == sorted(made)  # each change ran once, none lost
    assert len({run["trigger"]["key"] for run in runs}) == len(runs) == 2
    service.delete(workflow["id"], UnitOfWork(), machine["identity"])


def test_a_signed_webhook_call_runs_once_and_bad_or_stale_signatures_are_refused(machine):
    from common.core.db import UnitOfWork
    from common.core.errors import Conflict, NotFound, Unauthorized
    from common.workflows import triggers
    from common.workflows.commands import HookCall, HookCaller

    def call(workflow_id: str, signature: str | None) -> Any:
        return triggers.receive_hook(HookCall(workflow_id=workflow_id, body=body), UnitOfWork(),
                                     HookCaller(signature=signature))

    workflow = _create(machine, [{"id": "c", "type": "condition",
                                  "config": {"left": "{{ input.body.n }}", "op": "eq",
                                             "right": 7}}], {"type": "webhook"})
    secret = workflow["webhook_secret"]
    body = json.dumps({"n": 7}).encode()
    header = triggers.sign(secret, int(time.time()), body)
    started = call(workflow["id"], header)
    execution = _finished(machine, started.execution_id)
    assert execution["status"] == "succeeded" and execution["steps"][0]["output"] == {
        "result": True}
    with pytest.raises(Conflict):  # the same call again: a replay
        call(workflow["id"], header)
    with pytest.raises(Unauthorized):
        call(workflow["id"], triggers.sign("whsec_wrong", int(time.time()), body))
    with pytest.raises(Unauthorized):
        call(workflow["id"], triggers.sign(secret, int(time.time()) - 3600, body))
    with pytest.raises(Unauthorized):
        call(workflow["id"], None)
    with pytest.raises(NotFound):
        call(uuid.uuid4().hex, header)
    assert len(_executions_of(machine, workflow["id"])) == 1


def test_an_uploaded_file_starts_file_upload_workflows_of_its_workspace_once(machine):
    from common.core.db import UnitOfWork
    from common.core.models import StoredFile
    from common.workflows import triggers

    csv_flow = _create(machine, [{"id": "c", "type": "condition",
                                  "config": {"left": "{{ input.file.filename }}",
                                             "op": "contains", "right": ".csv"}}],
                       {"type": "file_upload", "filename_suffixes": [".csv"]})
    pdf_flow = _create(machine, [{"id": "c", "type": "condition",
                                  "config": {"left": 1, "op": "eq", "right": 1}}],
                       {"type": "file_upload", "filename_suffixes": [".pdf"]})
    with UnitOfWork() as uow:
        stored = StoredFile(owner_id=machine["identity"].user_id,
                            key=f"uploads/{uuid.uuid4().hex}/people.csv", filename="people.csv",
                            content_type="text/csv", size=10, status="ready")
        uow.session.add(stored)
        uow.commit()
        file_id = stored.id
    detail = {"file_id": file_id, "user_id": machine["identity"].user_id,
              "workspace_id": machine["workspace_id"]}
    assert triggers.file_uploaded(detail) == {"started": 1}
    assert triggers.file_uploaded(detail) == {"started": 0}  # delivered twice: runs once
    (run,) = _executions_of(machine, csv_flow["id"])
    assert _finished(machine, run["id"])["steps"][0]["output"] == {"result": True}
    assert _executions_of(machine, pdf_flow["id"]) == []


def test_viewers_read_workflows_and_history_but_only_editors_change_or_run_them(machine):
    from common.core.db import UnitOfWork
    from common.core.errors import Forbidden, NotFound
    from common.core.identity import Identity
    from common.core.models import User, WorkspaceMember
    from common.workflows import service
    from common.workflows.commands import ExecuteWorkflow, ListWorkflows

    workflow = _create(machine, [{"id": "c", "type": "condition",
                                  "config": {"left": 1, "op": "eq", "right": 1}}])
    with UnitOfWork() as uow:
        viewer = User(email=f"viewer-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
        stranger = User(email=f"stranger-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
        uow.session.add_all([viewer, stranger])
        uow.flush()
        uow.session.add(WorkspaceMember(workspace_id=machine["workspace_id"], user_id=viewer.id,
                                        role="viewer"))
        uow.commit()
        as_viewer = Identity(user_id=viewer.id, role="member")
        as_stranger = Identity(user_id=stranger.id, role="member")
    run = ExecuteWorkflow(workflow_id=workflow["id"])
    started = service.execute(run, UnitOfWork(), machine["identity"])
    assert service.get(workflow["id"], UnitOfWork(), as_viewer).id == workflow["id"]
    assert service.get_execution(started.execution_id, UnitOfWork(), as_viewer).id
    with pytest.raises(Forbidden):
        service.execute(run, UnitOfWork(), as_viewer)
    with pytest.raises(Forbidden):
        service.delete(workflow["id"], UnitOfWork(), as_viewer)
    with pytest.raises(NotFound):
        service.get(workflow["id"], UnitOfWork(), as_stranger)
    with pytest.raises(NotFound):
        service.get_execution(started.execution_id, UnitOfWork(), as_stranger)
    listed = service.list_workflows(ListWorkflows(), UnitOfWork(), as_stranger).items
    assert workflow["id"] not in [w.id for w in listed]


def test_a_step_delivered_twice_writes_once(machine):
    from common.core.db import UnitOfWork
    from common.core.models import Workflow, WorkflowExecution, new_id
    from common.workflows import runner

    tag = uuid.uuid4().hex[:6]
    workflow = _create(machine, [
        {"id": "copy", "type": "airtable.create_records",
         "config": {"base_id": machine["base_id"], "table": "Copies",
                    "records": [{"fields": {"Label": tag}}]}},
        {"id": "after", "type": "condition", "config": {"left": 1, "op": "eq", "right": 1}}])
    with UnitOfWork() as uow:  # an execution the machine does not drive: the test delivers
        row = uow.session.get(Workflow, workflow["id"])
        execution = WorkflowExecution(id=new_id(), workflow_id=row.id,
                                      workspace_id=row.workspace_id, status="running",
                                      trigger_type="manual", run_as=row.run_as, input={},
                                      definition=row.steps)
        uow.session.add(execution)
        uow.commit()
        execution_id = execution.id
    first = runner.run_step(execution_id, 0, 0)
    second = runner.run_step(execution_id, 0, 0)  # Step Functions re-delivering the task
    assert first == second == {"execution_id": execution_id, "position": 1, "next": "run"}
    assert [r["fields"]["Label"] for r in _copies(machine)].count(tag) == 1
    assert _execution(machine, execution_id)["steps"][0]["attempts"] == 1

"""Every kind of asynchronous invocation reaches its function in the local stack."""

from __future__ import annotations

import hashlib
import json
import uuid

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from common.core.models import DiagnosticRun, JobRun, Notification, StoredFile
from tests.helpers import wait_for


def _query(database_url, statement):
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            return session.scalars(statement).all()
    finally:
        engine.dispose()


def test_s3_upload_reaches_the_files_processor(stack, database_url):
    key = f"uploads/{uuid.uuid4().hex}/contacts list.csv"
    body = b"Name,Email\nAda,ada@example.com\n"
    engine = create_engine(database_url)
    with Session(engine) as session:  # a presigned upload announced through the API
        session.add(StoredFile(key=key, filename="contacts list.csv", content_type="text/csv",
                               format="csv", declared_size=len(body), status="pending"))
        session.commit()
    engine.dispose()
    stack.client("s3").put_object(Bucket=stack.resource("UploadsBucket"), Key=key, Body=body,
                                  ContentType="text/csv")
    rows = wait_for(lambda: _query(database_url, select(StoredFile).where(
        StoredFile.key == key, StoredFile.status == "ready")))
    assert rows[0].size == len(body)
    assert rows[0].sha256 == hashlib.sha256(body).hexdigest()
    assert rows[0].filename == "contacts list.csv"


def test_objects_outside_the_uploads_prefix_are_not_processed(stack, database_url):
    key = f"exports/{uuid.uuid4().hex}.csv"
    stack.client("s3").put_object(Bucket=stack.resource("UploadsBucket"), Key=key, Body=b"x")
    stack.dispatcher.drain()
    assert _query(database_url, select(StoredFile).where(StoredFile.key == key)) == []


def test_eventbridge_event_reaches_the_dispatcher(stack, database_url):
    user_id = uuid.uuid4().hex
    stack.client("events").put_events(Entries=[{
        "Source": "pyairtable", "DetailType": "saga.compensated",
        "Detail": json.dumps({"user_id": user_id, "saga_id": "s1"}),
        "EventBusName": stack.resource("EventBus")}])
    rows = wait_for(lambda: _query(database_url, select(Notification).where(
        Notification.user_id == user_id)))
    assert rows[0].type == "saga.compensated"
    assert rows[0].data["saga_id"] == "s1"


def test_events_from_other_sources_do_not_match_the_rule(stack, database_url):
    user_id = uuid.uuid4().hex
    stack.client("events").put_events(Entries=[{
        "Source": "someone.else", "DetailType": "x", "Detail": json.dumps({"user_id": user_id}),
        "EventBusName": stack.resource("EventBus")}])
    stack.dispatcher.drain()
    assert _query(database_url, select(Notification).where(Notification.user_id == user_id)) == []


def test_schedule_reaches_the_housekeeping_function(stack, database_url):
    before = len(_query(database_url, select(JobRun).where(JobRun.job == "housekeeping")))
    (rule,) = [name for name in stack.scheduler.rules if name.endswith("-housekeeping")]
    assert stack.scheduler.rules[rule][0].rate_seconds == 15 * 60
    for future in stack.scheduler.fire(rule):
        assert future.result(timeout=30).error is None
    runs = _query(database_url, select(JobRun).where(JobRun.job == "housekeeping"))
    assert len(runs) == before + 1
    assert set(runs[-1].result) == {"refresh_tokens", "sessions", "login_throttle",
                                   "usage_batches", "analytics_events"}


def test_state_machine_task_failure_is_caught_and_compensated(stack, database_url):
    sfn = stack.client("stepfunctions")
    machine = stack.resource("DiagnosticsStateMachine")
    run_id = uuid.uuid4().hex
    execution = sfn.start_execution(stateMachineArn=machine, name=run_id,
                                    input=json.dumps({"run_id": run_id, "fail": True}))
    described = wait_for(lambda: (d := sfn.describe_execution(
        executionArn=execution["executionArn"]))["status"] != "RUNNING" and d, timeout=60)
    assert described["status"] == "FAILED"
    assert described["error"] == "ProbeCompensated"
    history = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history
               if e["type"].endswith("StateEntered")]
    assert entered == ["Probe", "Compensate", "Compensated"]
    (run,) = _query(database_url, select(DiagnosticRun).where(DiagnosticRun.run_id == run_id))
    assert run.status == "compensated"
    assert "failed on request" in run.error


def test_state_machine_happy_path_succeeds_without_compensation(stack, database_url):
    sfn = stack.client("stepfunctions")
    run_id = uuid.uuid4().hex
    machine = stack.resource("DiagnosticsStateMachine")
    execution = sfn.start_execution(stateMachineArn=machine, name=run_id,
                                    input=json.dumps({"run_id": run_id, "fail": False}))
    described = wait_for(lambda: (d := sfn.describe_execution(
        executionArn=execution["executionArn"]))["status"] != "RUNNING" and d, timeout=60)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["result"]["probe"]["status"] == "succeeded"
    (run,) = _query(database_url, select(DiagnosticRun).where(DiagnosticRun.run_id == run_id))
    assert (run.status, run.probe_attempts) == ("succeeded", 1)


def test_security_events_reach_the_bus_and_only_noteworthy_ones_the_inbox(api, stack,
                                                                          database_url):
    from tests.e2e.authutil import PASSWORD, bearer, register

    tokens = register(api)
    user_id = tokens["user"]["id"]
    changed = api.post("/api/auth/password", headers=bearer(tokens["access_token"]),
                       json={"current_password": PASSWORD,
                             "new_password": "Another-Long-Passphrase-42"})
    assert changed.status_code == 204, changed.text
    rows = wait_for(lambda: _query(database_url, select(Notification).where(
        Notification.user_id == user_id, Notification.type == "user.password_changed")))
    assert len(rows) == 1
    stack.dispatcher.drain()
    types = {n.type for n in _query(database_url, select(Notification).where(
        Notification.user_id == user_id))}
    assert "user.login" not in types and "user.password_changed" in types


def test_failed_asynchronous_invocations_are_retried_twice(stack):
    calls = []
    original = stack.dispatcher.invoke

    def counting(function, event, **kwargs):
        calls.append(function)
        return original(function, event, **kwargs)

    stack.dispatcher.invoke = counting
    try:
        # An S3 event for an object that does not exist fails in the processor every time.
        event = {"Records": [{"eventSource": "aws:s3", "s3": {
            "bucket": {"name": stack.resource("UploadsBucket")},
            "object": {"key": f"uploads/missing-{uuid.uuid4().hex}.csv"}}}]}
        spec = stack.function("FilesProcessorFunction")
        result = stack.dispatcher.invoke_async(spec.name, event, source="s3").result(timeout=60)
    finally:
        stack.dispatcher.invoke = original
    assert result.error is not None
    # Other functions run meanwhile (log subscriptions, events of earlier tests): count this one.
    assert [c for c in calls if c == spec.name] == [spec.name] * 3

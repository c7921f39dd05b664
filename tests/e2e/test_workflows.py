"""Workflows over real HTTP against the local stack: Airtable steps on the emulator, the
schedule fired by the runtime's scheduler, signed webhook calls, Airtable changes, refusals."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from pyairtable import Api

from tests.e2e.authutil import bearer, register
from tests.e2e.fileutil import download
from tests.e2e.receiver import Receiver
from tests.helpers import wait_for

PEOPLE = [{"name": "Name", "type": "singleLineText"},
          {"name": "Age", "type": "number", "options": {"precision": 0}}]
COPIES = [{"name": "Label", "type": "singleLineText"},
          {"name": "Source", "type": "singleLineText"}]


@pytest.fixture(scope="module")
def member(api):
    """A member whose personal workspace has the stack's default connection (make dev's)."""
    return bearer(register(api)["access_token"])


@pytest.fixture(scope="module")
def base(stack):
    """A fresh base with People, Copies and Arrivals, reached through the emulator's HTTP API
    as the stack's Airtable user, with a token whose requests the emulator's rate limit ignores:
    the test's seeding and checking must not take the slots of the workflows under test."""
    base_id = stack.airtable.create_base(f"Workflows {uuid.uuid4().hex[:6]}", tables=[
        {"name": "People", "fields": PEOPLE}, {"name": "Copies", "fields": COPIES},
        {"name": "Arrivals", "fields": PEOPLE}])
    token = stack.airtable.inspector(stack.airtable.tokens[stack.airtable_token])
    return Api(token, endpoint_url=stack.airtable_url).base(base_id)


@pytest.fixture(scope="module", autouse=True)
def awaiting_a_tick(api, member, base):
    """The workflows that run on the runtime's minute tick, saved when the module starts so
    their waits overlap the other tests': a `rate(1 minute)` schedule (due a minute after
    saving) and a watch of Arrivals (the tick reads Airtable's webhook payloads every minute),
    with the record it should see already created."""
    scheduled_tag, watched_tag = uuid.uuid4().hex[:6], uuid.uuid4().hex[:6]
    base.table("People").create({"Name": f"Cy {scheduled_tag}", "Age": 50})
    scheduled = _create(api, member, {"type": "schedule", "schedule": "rate(1 minute)"},
                        _copy_steps(base.id, scheduled_tag, f"scheduled {scheduled_tag}"))
    watched = _create(api, member, {"type": "airtable_change", "base_id": base.id,
                                    "table": "Arrivals", "changes": ["created"]}, [
        {"id": "labels", "type": "transform",
         "config": {"items": "{{ input.created }}",
                    "fields": {"Label": "new: {{ item.fields.Name }}", "Source": watched_tag}}},
        {"id": "copy", "type": "airtable.create_records",
         "config": {"base_id": base.id, "table": "Copies",
                    "records": "{{ steps.labels.records }}"}}])
    base.table("Arrivals").create({"Name": f"Dee {watched_tag}", "Age": 3})
    return {"scheduled": (scheduled, scheduled_tag), "watched": (watched, watched_tag)}


@pytest.fixture
def hosts(stack):
    """Map a name to an address in the functions' hosts file (as DNS would answer)."""
    path = Path(stack.options.extra_env["OUTBOUND_HOSTS_FILE"])

    def set_entry(name: str, address: str) -> None:
        lines = [line for line in path.read_text().splitlines() if not line.endswith(f" {name}")]
        path.write_text("\n".join([*lines, f"{address} {name}"]) + "\n")

    return set_entry


def _copy_steps(base_id: str, tag: str, source: str) -> list[dict]:
    return [
        {"id": "people", "type": "airtable.list_records",
         "config": {"base_id": base_id, "table": "People", "formula": f"FIND('{tag}', {{Name}})"}},
        {"id": "labels", "type": "transform",
         "config": {"items": "{{ steps.people.records }}",
                    "fields": {"Label": "{{ item.fields.Name }} is {{ item.fields.Age }}",
                               "Source": source}}},
        {"id": "copy", "type": "airtable.create_records",
         "config": {"base_id": base_id, "table": "Copies",
                    "records": "{{ steps.labels.records }}"}}]


def _create(api, member, trigger, steps, expect=201):
    response = api.post("/api/workflows", headers=member, json={
        "name": f"wf {uuid.uuid4().hex[:6]}", "trigger": trigger, "steps": steps})
    assert response.status_code == expect, response.text
    return response.json()


def _finished(api, member, execution_id, timeout=60):
    def done():
        body = api.get(f"/api/workflows/executions/{execution_id}", headers=member).json()
        return body if body["status"] != "running" else None

    return wait_for(done, timeout=timeout, interval=0.3)


def _runs(api, member, workflow_id):
    response = api.get(f"/api/workflows/{workflow_id}/executions", headers=member)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _copies(base, source):
    return sorted(r["fields"]["Label"] for r in base.table("Copies").all()
                  if r["fields"].get("Source") == source)


def test_a_manual_run_copies_rows_with_the_template_applied(api, member, base):
    tag = uuid.uuid4().hex[:6]
    base.table("People").batch_create([{"Name": f"Ada {tag}", "Age": 36},
                                       {"Name": f"Bob {tag}", "Age": 7}])
    source = f"manual {tag}"
    workflow = _create(api, member, {"type": "manual"},
                       _copy_steps(base.id, tag, "{{ input.source }}"))
    started = api.post(f"/api/workflows/{workflow['id']}/execute", headers=member,
                       json={"input": {"source": source}})
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "running"
    execution = _finished(api, member, started.json()["execution_id"])
    assert execution["status"] == "succeeded", (execution["error"], execution["steps"])
    assert [s["status"] for s in execution["steps"]] == ["succeeded"] * 3
    assert all(s["duration_ms"] is not None for s in execution["steps"])
    assert _copies(base, source) == [f"Ada {tag} is 36", f"Bob {tag} is 7"]


def test_an_idempotency_key_starts_one_execution(api, member):
    workflow = _create(api, member, {"type": "manual"}, [
        {"id": "c", "type": "condition", "config": {"left": 1, "op": "eq", "right": 1}}])
    key = {"Idempotency-Key": uuid.uuid4().hex, **member}
    first = api.post(f"/api/workflows/{workflow['id']}/execute", headers=key, json={})
    again = api.post(f"/api/workflows/{workflow['id']}/execute", headers=key, json={})
    assert first.status_code == again.status_code == 202
    assert first.json()["execution_id"] == again.json()["execution_id"]
    assert len(_runs(api, member, workflow["id"])) == 1


def test_a_running_execution_is_cancelled_over_http(api, member):
    workflow = _create(api, member, {"type": "manual"}, [
        {"id": "pause", "type": "delay", "config": {"seconds": 600}},
        {"id": "never", "type": "notify", "config": {"title": "never"}}])
    started = api.post(f"/api/workflows/{workflow['id']}/execute", headers=member, json={})
    execution_id = started.json()["execution_id"]
    wait_for(lambda: api.get(f"/api/workflows/executions/{execution_id}", headers=member)
             .json()["steps"][0]["status"] == "waiting")
    cancelled = api.post(f"/api/workflows/executions/{execution_id}/cancel", headers=member)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert [s["status"] for s in cancelled.json()["steps"]] == ["cancelled", "skipped"]
    again = api.post(f"/api/workflows/executions/{execution_id}/cancel", headers=member)
    assert again.status_code == 409


def test_a_files_export_step_hands_the_table_to_the_files_service(api, member, base):
    workflow = _create(api, member, {"type": "manual"}, [
        {"id": "export", "type": "files.export",
         "config": {"base_id": base.id, "table": "People", "format": "csv"}}])
    run = api.post(f"/api/workflows/{workflow['id']}/execute", headers=member, json={})
    execution = _finished(api, member, run.json()["execution_id"])
    assert execution["status"] == "succeeded", (execution["error"], execution["steps"])
    export_id = execution["steps"][0]["output"]["export_id"]

    def exported():
        body = api.get(f"/api/files/exports/{export_id}", headers=member).json()
        return body if body["status"] != "running" else None

    job = wait_for(exported, timeout=60, interval=0.5)
    assert job["status"] == "succeeded", job
    assert download(api, member, job["file_id"]).decode().splitlines()[0].startswith("Name")


def test_a_rate_schedule_runs_without_a_manual_call(api, member, base, awaiting_a_tick):
    workflow, tag = awaiting_a_tick["scheduled"]
    # Due a minute after saving; the runtime fires the tick every minute: at most ~2 minutes.
    run = wait_for(lambda: _runs(api, member, workflow["id"]), timeout=150, interval=2)[0]
    assert run["trigger"]["type"] == "schedule"
    assert _finished(api, member, run["id"])["status"] == "succeeded"
    assert _copies(base, f"scheduled {tag}")[0] == f"Cy {tag} is 50"
    paused = api.patch(f"/api/workflows/{workflow['id']}", headers=member,
                       json={"enabled": False})
    assert paused.status_code == 200 and paused.json()["enabled"] is False


def _signed(secret, body, at=None):
    import hashlib
    import hmac

    at = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-PyAirtable-Signature": f"t={at},v1={digest}", "Content-Type": "application/json"}


def test_a_webhook_trigger_runs_on_a_signed_call_and_refuses_bad_or_replayed_ones(api, member):
    workflow = _create(api, member, {"type": "webhook"}, [
        {"id": "big", "type": "condition",
         "config": {"left": "{{ input.body.amount }}", "op": "gt", "right": 100}}])
    secret = workflow["webhook_secret"]
    assert secret.startswith("whsec_")
    assert "webhook_secret" not in api.get(f"/api/workflows/{workflow['id']}",
                                           headers=member).json()
    path = f"/api/workflows/hooks/{workflow['id']}"
    body = json.dumps({"amount": 250}).encode()
    headers = _signed(secret, body)
    accepted = api.post(path, data=body, headers=headers)  # no Authorization: a public route
    assert accepted.status_code == 202, accepted.text
    execution = _finished(api, member, accepted.json()["execution_id"])
    assert execution["steps"][0]["output"] == {"result": True}

    replayed = api.post(path, data=body, headers=headers)
    assert replayed.status_code == 409, replayed.text
    forged = api.post(path, data=body, headers=_signed("whsec_guess", body))
    assert forged.status_code == 401
    assert forged.json()["error"]["code"] == "unauthorized"
    stale = api.post(path, data=body, headers=_signed(secret, body, int(time.time()) - 3600))
    assert stale.status_code == 401
    tampered = api.post(path, data=json.dumps({"amount": 1}).encode(), headers=headers)
    assert tampered.status_code == 401
    assert len(_runs(api, member, workflow["id"])) == 1


def test_an_airtable_change_runs_after_a_record_is_created_at_the_emulator(api, member, base,
                                                                          awaiting_a_tick):
    workflow, tag = awaiting_a_tick["watched"]
    assert workflow["watch"]["webhook_id"].startswith("ach")
    # The tick reads the webhook's payloads every minute.
    run = wait_for(lambda: _runs(api, member, workflow["id"]), timeout=90, interval=2)[0]
    assert run["trigger"]["type"] == "airtable_change"
    assert _finished(api, member, run["id"])["status"] == "succeeded"
    assert _copies(base, tag) == [f"new: Dee {tag}"]
    deleted = api.delete(f"/api/workflows/{workflow['id']}", headers=member)
    assert deleted.status_code == 204
    assert base.webhooks() == []  # its Airtable webhook went with it


@pytest.mark.parametrize(("trigger", "steps", "problem"), [
    ({"type": "manual"}, [{"id": "a", "type": "airtable.teleport", "config": {}}],
     "does not match"),
    ({"type": "schedule", "schedule": "cron(0 9 * * * *)"},
     [{"id": "a", "type": "delay", "config": {"seconds": 1}}], "invalid schedule"),
    ({"type": "manual"}, [{"id": "a", "type": "transform",
                           "config": {"items": "{{ steps.nowhere.records }}",
                                      "fields": {"x": "y"}}}], "not an earlier step"),
])
def test_bad_definitions_are_refused_with_422(api, member, trigger, steps, problem):
    response = api.post("/api/workflows", headers=member,
                        json={"name": "bad", "trigger": trigger, "steps": steps})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert problem in json.dumps(error["details"])


def test_an_http_request_to_the_metadata_address_never_sends(api, member, hosts):
    refused = api.post("/api/workflows", headers=member, json={
        "name": "meta", "trigger": {"type": "manual"},
        "steps": [{"id": "get", "type": "http_request",
                   "config": {"url": "http://169.254.169.254/latest/meta-data/"}}]})
    assert refused.status_code == 422

    receiver = Receiver().start()
    try:
        name = f"rebind-{uuid.uuid4().hex[:6]}.test"
        hosts(name, "127.0.0.1")
        workflow = _create(api, member, {"type": "manual"}, [
            {"id": "post", "type": "http_request",
             "config": {"method": "POST", "url": receiver.url(name), "body": {"n": 1}}}])
        run = api.post(f"/api/workflows/{workflow['id']}/execute", headers=member, json={})
        assert _finished(api, member, run.json()["execution_id"])["status"] == "succeeded"
        assert len(receiver.requests) == 1
        hosts(name, "169.254.169.254")  # the name now resolves to the metadata address
        run = api.post(f"/api/workflows/{workflow['id']}/execute", headers=member, json={})
        execution = _finished(api, member, run.json()["execution_id"])
        assert execution["status"] == "failed"
        assert execution["steps"][0]["error"]["code"] == "refused_target"
        assert "169.254.169.254" in execution["steps"][0]["error"]["message"]
        assert len(receiver.requests) == 1  # nothing more was sent
    finally:
        receiver.stop()

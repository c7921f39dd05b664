"""Security, third round (issue 21) over real HTTP: workflows stop with their owner's access,
steps keep to their workspace, exports are safe to open, inputs that answered 500 are 422."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from pyairtable import Api

from tests.e2e.authutil import bearer, register, unique_email
from tests.e2e.fileutil import download
from tests.e2e.mailbox import token_from
from tests.helpers import wait_for

pytestmark = pytest.mark.e2e

PEOPLE = [{"name": "Name", "type": "singleLineText"},
          {"name": "Age", "type": "number", "options": {"precision": 0}}]


@pytest.fixture(scope="module")
def base(stack):
    """A base with People, written to as the stack's Airtable user outside its rate limit."""
    base_id = stack.airtable.create_base(f"Round3 {uuid.uuid4().hex[:6]}",
                                         tables=[{"name": "People", "fields": PEOPLE}])
    token = stack.airtable.inspector(stack.airtable.tokens[stack.airtable_token])
    return Api(token, endpoint_url=stack.airtable_url).base(base_id)


def _user(api, stack, verified=True):
    email = unique_email("r3")
    body = register(api, email)
    if verified:
        token = token_from(stack.mail_dir, email, "/verify-email")
        assert api.post("/api/auth/verify-email", json={"token": token}).status_code == 200
    return {"email": email, "id": body["user"]["id"], "headers": bearer(body["access_token"])}


def _team(api, stack, owner, *members):
    """A shared workspace of `owner` with each (user, role) of `members` joined."""
    workspace = api.post("/api/workspaces", json={"name": "Round3"}, headers=owner["headers"])
    assert workspace.status_code == 201, workspace.text
    workspace_id = workspace.json()["id"]
    for member, role in members:
        invited = api.post(f"/api/workspaces/{workspace_id}/invitations",
                           headers=owner["headers"], json={"email": member["email"],
                                                           "role": role})
        assert invited.status_code == 201, invited.text
        token = token_from(stack.mail_dir, member["email"], "/invitations/accept")
        joined = api.post("/api/workspaces/invitations/accept", json={"token": token},
                          headers=member["headers"])
        assert joined.status_code == 200, joined.text
    return workspace_id


def _workflow(api, headers, trigger, steps, workspace_id=None):
    response = api.post("/api/workflows", headers=headers, json={
        "name": f"wf {uuid.uuid4().hex[:6]}", "trigger": trigger, "steps": steps,
        **({"workspace_id": workspace_id} if workspace_id else {})})
    assert response.status_code == 201, response.text
    return response.json()


def _finished(api, headers, execution_id, timeout=60):
    def done():
        body = api.get(f"/api/workflows/executions/{execution_id}", headers=headers).json()
        return body if body["status"] != "running" else None

    return wait_for(done, timeout=timeout, interval=0.3)


def _signed(secret, body):
    import hashlib
    import hmac

    at = int(time.time())
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-PyAirtable-Signature": f"t={at},v1={digest}", "Content-Type": "application/json"}


# ------------------------------------------------------------------ item 1: inactive owners
def test_a_deactivated_owners_webhook_workflow_is_refused_for_everyone(api, stack, base):
    owner, author = _user(api, stack), _user(api, stack)
    workspace_id = _team(api, stack, owner, (author, "editor"))
    workflow = _workflow(api, author["headers"], {"type": "webhook"}, [
        {"id": "people", "type": "airtable.list_records",
         "config": {"base_id": base.id, "table": "People"}}], workspace_id)
    assert api.delete("/api/users/me", headers=author["headers"]).status_code == 204

    body = json.dumps({"go": True}).encode()
    hook = api.post(f"/api/workflows/hooks/{workflow['id']}", data=body,
                    headers=_signed(workflow["webhook_secret"], body))
    assert hook.status_code == 403, hook.text
    assert "deactivated" in hook.json()["error"]["message"]
    manual = api.post(f"/api/workflows/{workflow['id']}/execute", headers=owner["headers"],
                      json={})
    assert manual.status_code == 403, manual.text
    assert api.get(f"/api/workflows/{workflow['id']}/executions",
                   headers=owner["headers"]).json()["items"] == []


def test_a_run_whose_owner_is_demoted_meanwhile_has_its_data_steps_refused(api, stack, base):
    owner, author = _user(api, stack), _user(api, stack)
    workspace_id = _team(api, stack, owner, (author, "editor"))
    workflow = _workflow(api, author["headers"], {"type": "manual"}, [
        {"id": "pause", "type": "delay", "config": {"seconds": 2}},
        {"id": "people", "type": "airtable.list_records",
         "config": {"base_id": base.id, "table": "People"}}], workspace_id)
    started = api.post(f"/api/workflows/{workflow['id']}/execute", headers=owner["headers"],
                       json={})
    assert started.status_code == 202, started.text
    demoted = api.patch(f"/api/workspaces/{workspace_id}/members/{author['id']}",
                        headers=owner["headers"], json={"role": "viewer"})
    assert demoted.status_code == 200, demoted.text

    execution = _finished(api, owner["headers"], started.json()["execution_id"])
    assert execution["status"] == "failed"
    assert execution["steps"][1]["error"]["code"] == "forbidden"
    assert "no longer an editor" in execution["steps"][1]["error"]["message"]
    again = api.post(f"/api/workflows/{workflow['id']}/execute", headers=owner["headers"],
                     json={})
    assert again.status_code == 403


# ------------------------------------------------------------------ item 2: own workspace
def test_a_files_export_step_uses_only_its_workspaces_connections(api, stack, base):
    owner = _user(api, stack)
    workspace_id = _team(api, stack, owner)
    connections = api.get(f"/api/airtable/connections?workspace_id={workspace_id}",
                          headers=owner["headers"]).json()["items"]
    for connection in connections:  # the team has no connection; the owner's personal one does
        assert api.delete(f"/api/airtable/connections/{connection['id']}",
                          headers=owner["headers"]).status_code == 204
    workflow = _workflow(api, owner["headers"], {"type": "manual"}, [
        {"id": "export", "type": "files.export",
         "config": {"base_id": base.id, "table": "People", "format": "csv"}}], workspace_id)
    run = api.post(f"/api/workflows/{workflow['id']}/execute", headers=owner["headers"],
                   json={})
    execution = _finished(api, owner["headers"], run.json()["execution_id"])
    assert execution["status"] == "failed"
    assert execution["steps"][0]["error"]["code"] == "not_found"
    assert "workflow's workspace" in execution["steps"][0]["error"]["message"]


# ------------------------------------------------------------------ item 3: safe exports
DANGEROUS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+cmd|' /C calc'!A0", "-2+3",
             "@SUM(1,2)", "\tTabbed", "\rReturned"]


def _exported(api, headers, base_id, fmt):
    started = api.post("/api/files/exports", headers=headers,
                       json={"base_id": base_id, "table": "People", "format": fmt})
    assert started.status_code == 202, started.text
    export_id = started.json()["export_id"]
    job = wait_for(lambda: (body := api.get(f"/api/files/exports/{export_id}",
                                            headers=headers).json())["status"] != "running"
                   and body, timeout=60, interval=0.5)
    assert job["status"] == "succeeded", job
    return download(api, headers, job["file_id"])


def test_csv_exports_neutralise_formulas_and_json_exports_stay_exact(api, stack):
    import csv
    import io

    base_id = stack.airtable.create_base(f"Export {uuid.uuid4().hex[:6]}",
                                         tables=[{"name": "People", "fields": PEOPLE}])
    token = stack.airtable.inspector(stack.airtable.tokens[stack.airtable_token])
    table = Api(token, endpoint_url=stack.airtable_url).table(base_id, "People")
    table.batch_create([{"Name": text, "Age": -5} for text in DANGEROUS])
    member = _user(api, stack)["headers"]

    rows = list(csv.reader(io.StringIO(_exported(api, member, base_id, "csv").decode(),
                                       newline="")))
    assert rows[0] == ["Name", "Age"]
    assert sorted(r[0] for r in rows[1:]) == sorted("'" + text for text in DANGEROUS)
    assert {r[1] for r in rows[1:]} == {"-5"}  # numbers are data, never neutralised
    exact = json.loads(_exported(api, member, base_id, "json"))
    assert sorted(r["Name"] for r in exact) == sorted(DANGEROUS)


# ------------------------------------------------------------------ item 5: formula templates
def test_a_template_inside_a_formula_is_refused_pointing_to_filter(api, stack, base):
    member = _user(api, stack)["headers"]
    response = api.post("/api/workflows", headers=member, json={
        "name": "lookup", "trigger": {"type": "manual"}, "steps": [
            {"id": "find", "type": "airtable.list_records",
             "config": {"base_id": base.id, "table": "People",
                        "formula": "{Name} = '{{ input.name }}'"}}]})
    assert response.status_code == 422, response.text
    assert "filter" in response.text


def test_a_templated_filter_value_matches_literally(api, stack, base):
    tag = uuid.uuid4().hex[:6]
    base.table("People").batch_create([{"Name": f"Ada {tag}"}, {"Name": f"Bob {tag}"}])
    member = _user(api, stack)["headers"]
    workflow = _workflow(api, member, {"type": "manual"}, [
        {"id": "find", "type": "airtable.list_records",
         "config": {"base_id": base.id, "table": "People",
                    "filter": {"Name": "{{ input.name }}"}}}])
    crafted = "x' , TRUE()) OR TRUE() OR ('"
    run = api.post(f"/api/workflows/{workflow['id']}/execute", headers=member,
                   json={"input": {"name": crafted}})
    execution = _finished(api, member, run.json()["execution_id"])
    assert execution["status"] == "succeeded", execution
    assert execution["steps"][0]["output"]["records"] == []


# ------------------------------------------------------------------ item 11: trigger bodies
def test_a_webhook_trigger_body_over_256_kb_is_413(api, stack):
    member = _user(api, stack)["headers"]
    workflow = _workflow(api, member, {"type": "webhook"}, [
        {"id": "c", "type": "condition", "config": {"left": 1, "op": "eq", "right": 1}}])
    body = json.dumps({"blob": "x" * (300 * 1024)}).encode()
    response = api.post(f"/api/workflows/hooks/{workflow['id']}", data=body,
                        headers=_signed(workflow["webhook_secret"], body))
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"
    assert api.get(f"/api/workflows/{workflow['id']}/executions",
                   headers=member).json()["items"] == []


# ------------------------------------------------------------------ item 9: invitation mail
def test_invitations_are_limited_per_workspace_and_the_subject_is_one_short_line(api, stack):
    from tests.e2e.mailbox import messages_to

    owner = _user(api, stack)
    name = "Ü" * 100  # the longest name a workspace may have
    workspace = api.post("/api/workspaces", json={"name": name}, headers=owner["headers"])
    assert workspace.status_code == 201, workspace.text
    url = f"/api/workspaces/{workspace.json()['id']}/invitations"
    invitees = [unique_email("bulk") for _ in range(21)]
    answers = [api.post(url, headers=owner["headers"], json={"email": e, "role": "viewer"})
               for e in invitees]
    assert [a.status_code for a in answers] == [201] * 20 + [429], answers[-1].text
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert "invitations_per_hour" in answers[-1].json()["error"]["message"]
    assert messages_to(stack.mail_dir, invitees[-1]) == []
    subject = str(messages_to(stack.mail_dir, invitees[0])[0]["Subject"])
    assert len(subject) <= 120 and "\n" not in subject and subject.endswith("\u2026")


# ------------------------------------------------------------------ item 12: last owner
def test_two_owners_demoting_each_other_at_once_leave_an_owner(api, stack):
    from concurrent.futures import ThreadPoolExecutor

    # Two warm workers of each function on the path, or the two requests would be served one
    # after the other by one worker and never meet; twenty tries, since they must overlap.
    for pool in stack.pools.values():
        if pool.spec.logical_id in ("AuthorizerFunction", "UsersFunction"):
            pool.provision(2)
    for _ in range(20):
        first, second = _user(api, stack), _user(api, stack)
        workspace_id = _team(api, stack, first, (second, "owner"))

        def demote(pair, workspace_id=workspace_id):
            actor, target = pair
            return api.patch(f"/api/workspaces/{workspace_id}/members/{target['id']}",
                             headers=actor["headers"], json={"role": "editor"}).status_code

        with ThreadPoolExecutor(2) as pool:
            codes = sorted(pool.map(demote, [(first, second), (second, first)]))
        members = api.get(f"/api/workspaces/{workspace_id}/members",
                          headers=first["headers"]).json()["items"]
        assert [m["role"] for m in members].count("owner") == 1, (codes, members)
        assert codes[0] == 200 and codes[1] in (403, 409)


# ------------------------------------------------------------------ item 13: files in S3
def test_deleting_a_workspace_deletes_its_files_from_the_bucket(api, stack, database_url):
    from botocore.exceptions import ClientError
    from sqlalchemy import create_engine, text

    owner = _user(api, stack)
    workspace_id = _team(api, stack, owner)
    uploaded = api.post("/api/files/upload", headers=owner["headers"],
                        files={"file": ("people.csv", b"Name\nAda\n", "text/csv")},
                        data={"workspace_id": workspace_id})
    assert uploaded.status_code == 201, uploaded.text
    with create_engine(database_url).connect() as conn:
        key = conn.execute(text("SELECT key FROM files WHERE id = :id"),
                           {"id": uploaded.json()["id"]}).scalar_one()
    s3, bucket = stack.client("s3"), stack.resource("UploadsBucket")
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
    assert api.delete(f"/api/workspaces/{workspace_id}",
                      headers=owner["headers"]).status_code == 204
    with pytest.raises(ClientError) as gone:
        s3.head_object(Bucket=bucket, Key=key)
    assert gone.value.response["Error"]["Code"] in ("404", "NoSuchKey")


# ------------------------------------------------------------------ item 18: 500s now 422
def test_a_json_upload_nested_too_deeply_is_422(api, stack):
    member = _user(api, stack)["headers"]
    nested = b'[{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]"
    response = api.post("/api/files/upload", headers=member,
                        files={"file": ("deep.json", nested, "application/json")})
    assert response.status_code == 422, response.text
    assert "nested too deeply" in response.json()["error"]["message"]


@pytest.mark.parametrize("name", ["Team\r\nBcc: victim@example.com", "Tab\there", "Nul\x00"])
def test_a_workspace_name_with_control_characters_is_422(api, stack, name):
    owner = _user(api, stack)
    created = api.post("/api/workspaces", json={"name": name}, headers=owner["headers"])
    assert created.status_code == 422, created.text
    workspace_id = _team(api, stack, owner)
    renamed = api.patch(f"/api/workspaces/{workspace_id}", json={"name": name},
                        headers=owner["headers"])
    assert renamed.status_code == 422, renamed.text


# ------------------------------------------------------------------ item 7: quotas
def test_frequent_schedules_are_limited_per_workspace(api, stack):
    member = _user(api, stack)["headers"]
    steps = [{"id": "c", "type": "condition", "config": {"left": 1, "op": "eq", "right": 2}}]
    made = [_workflow(api, member, {"type": "schedule", "schedule": "cron(0/2 * * * ? *)"},
                      steps) for _ in range(5)]
    refused = api.post("/api/workflows", headers=member, json={
        "name": "sixth", "trigger": {"type": "schedule", "schedule": "rate(1 minute)"},
        "steps": steps})
    assert refused.status_code == 422, refused.text
    assert "frequent_schedules_per_workspace" in refused.json()["error"]["message"]
    assert _workflow(api, member, {"type": "schedule", "schedule": "rate(10 minutes)"}, steps)
    for workflow in made:  # a disabled one no longer counts
        assert api.patch(f"/api/workflows/{workflow['id']}", headers=member,
                         json={"enabled": False}).status_code == 200
    assert _workflow(api, member, {"type": "schedule", "schedule": "rate(1 minute)"},
                     steps, )["enabled"] is True


def test_running_sagas_per_base_are_limited_per_workspace_with_retry_after(api, stack):
    base_id = stack.airtable.create_base(f"Quota {uuid.uuid4().hex[:6]}",
                                         tables=[{"name": "People", "fields": PEOPLE}])
    member, other = _user(api, stack)["headers"], _user(api, stack)["headers"]
    slow = stack.airtable.faults.inject("slow", base_id=base_id, delay=3.0, writes_only=True)
    try:
        def start(headers):
            return api.post("/api/sagas", headers=headers, json={
                "type": "airtable_transaction", "input": {"base_id": base_id, "operations": [
                    {"action": "create", "table": "People",
                     "records": [{"fields": {"Name": "x"}}]}]}})

        assert [start(member).status_code for _ in range(4)] == [202] * 4
        refused = start(member)
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["Retry-After"]) > 0
        assert "running_sagas_per_base" in refused.json()["error"]["message"]
        assert start(other).status_code == 202  # another workspace is not held back
    finally:
        stack.airtable.faults.remove(slow)


def test_analytics_events_are_bounded_in_size_and_rate(api, stack):
    member = _user(api, stack)["headers"]
    big = api.post("/api/platform/events", headers=member,
                   json={"event_type": "ui.blob", "data": {"x": "y" * 5000}})
    assert big.status_code == 422
    assert "analytics_event_max_bytes" in big.text
    codes = [api.post("/api/platform/events", headers=member,
                      json={"event_type": "ui.tick", "data": {"n": n}}).status_code
             for n in range(121)]
    assert codes == [201] * 120 + [429]


def test_analytics_events_past_their_retention_are_deleted_by_housekeeping(api, stack,
                                                                           database_url):
    from sqlalchemy import create_engine, text

    user = _user(api, stack)
    assert api.post("/api/platform/events", headers=user["headers"],
                    json={"event_type": "ui.old", "data": {}}).status_code == 201
    assert api.post("/api/platform/events", headers=user["headers"],
                    json={"event_type": "ui.new", "data": {}}).status_code == 201
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE analytics_events SET occurred_at = occurred_at - "
                          "INTERVAL '91 days' WHERE user_id = :u AND event_type = 'ui.old'"),
                     {"u": user["id"]})
    (rule,) = [name for name in stack.scheduler.rules if name.endswith("-housekeeping")]
    for future in stack.scheduler.fire(rule):
        assert future.result(timeout=30).error is None
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT event_type FROM analytics_events WHERE user_id = :u"),
                            {"u": user["id"]}).scalars().all()
    assert kept == ["ui.new"]


# ------------------------------------------------------------------ item 17: addresses
@pytest.mark.parametrize("url", ["http://[2002:a9fe:a9fe::1]/latest/meta-data/",
                                 "http://[64:ff9b::a9fe:a9fe]/", "http://192.0.0.192/"])
def test_an_http_request_to_an_ipv4_carried_in_ipv6_or_a_special_range_is_422(api, stack, url):
    member = _user(api, stack)["headers"]
    response = api.post("/api/workflows", headers=member, json={
        "name": "out", "trigger": {"type": "manual"}, "steps": [
            {"id": "call", "type": "http_request", "config": {"method": "GET", "url": url}}]})
    assert response.status_code == 422, response.text


# ------------------------------------------------------------------ item 8: invitation events
def test_invitation_events_reach_owners_webhooks_only(api, stack):
    from tests.e2e.receiver import Receiver

    owner, editor = _user(api, stack), _user(api, stack)
    workspace_id = _team(api, stack, owner, (editor, "editor"))
    receiver = Receiver().start()
    try:
        hooks = {}
        for who in (owner, editor):
            made = api.post("/api/notifications/webhooks", headers=who["headers"], json={
                "url": receiver.url(), "events": ["invitation.*"], "workspace_id": workspace_id})
            assert made.status_code == 201, made.text
            hooks[who["id"]] = made.json()["id"]
        invitee = unique_email("r3")
        assert api.post(f"/api/workspaces/{workspace_id}/invitations", headers=owner["headers"],
                        json={"email": invitee, "role": "viewer"}).status_code == 201

        def delivered(who):
            return api.get(f"/api/notifications/webhooks/{hooks[who['id']]}/deliveries",
                           headers=who["headers"]).json()["items"]

        (delivery,) = wait_for(lambda: delivered(owner), timeout=60, interval=0.5)
        assert delivery["type"] == "invitation.created"
        assert delivered(editor) == []  # its deliveries are made in the same dispatch
        (sent,) = wait_for(receiver.accepted, timeout=30)
        assert invitee in sent.body.decode()
    finally:
        receiver.stop()


# ------------------------------------------------------------------ item 14: secret headers
def test_secret_http_request_headers_are_stored_encrypted_and_shown_masked(api, stack,
                                                                          database_url):
    from sqlalchemy import create_engine, text

    from tests.e2e.receiver import Receiver

    secret = f"Bearer tok-{uuid.uuid4().hex}"
    owner, viewer = _user(api, stack), _user(api, stack)
    workspace_id = _team(api, stack, owner, (viewer, "viewer"))
    receiver = Receiver().start()
    try:
        workflow = _workflow(api, owner["headers"], {"type": "manual"}, [
            {"id": "call", "type": "http_request",
             "config": {"method": "POST", "url": receiver.url(), "body": {"hello": 1},
                        "headers": {"Authorization": {"secret": secret}, "X-Plain": "shown"}}}],
            workspace_id)
        shown = api.get(f"/api/workflows/{workflow['id']}", headers=viewer["headers"])
        assert secret not in shown.text and secret not in json.dumps(workflow)
        headers = shown.json()["steps"][0]["config"]["headers"]
        assert headers == {"Authorization": {"secret": "\u2022" * 4 + secret[-4:]},
                           "X-Plain": "shown"}
        with create_engine(database_url).connect() as conn:
            stored = conn.execute(text("SELECT CAST(steps AS TEXT) FROM workflows WHERE id = :i"),
                                  {"i": workflow["id"]}).scalar_one()
        assert secret not in stored and "encrypted" in stored
        # A change that sends the definition back as shown keeps the secret.
        renamed = api.patch(f"/api/workflows/{workflow['id']}", headers=owner["headers"],
                            json={"name": "renamed"})
        assert renamed.status_code == 200, renamed.text

        run = api.post(f"/api/workflows/{workflow['id']}/execute", headers=owner["headers"],
                       json={})
        execution = _finished(api, owner["headers"], run.json()["execution_id"])
        assert execution["status"] == "succeeded", execution
        (request,) = wait_for(receiver.accepted, timeout=30)
        assert request.headers["authorization"] == secret
        seen = api.get(f"/api/workflows/executions/{execution['id']}", headers=viewer["headers"])
        assert secret not in seen.text
    finally:
        receiver.stop()

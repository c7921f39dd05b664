"""The MCP endpoint with the official SDK's client over real HTTP, checked at the emulator.

Each test gets a base of its own (made before its users register, so their connection's first
listing shows it); what Airtable holds is read from the emulator's store, costing no request.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
import uuid
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy import create_engine, text

from tests.e2e.authutil import bearer, register

pytestmark = pytest.mark.e2e

TOOLS = {"list_workspaces", "list_bases", "describe_base", "list_records", "get_record",
         "create_records", "update_records", "delete_records", "run_transaction",
         "get_transaction", "undo_transaction", "list_workflows", "run_workflow",
         "list_notifications"}
WRITES = {"create_records", "update_records", "delete_records", "run_transaction",
          "undo_transaction", "run_workflow"}
CONTACTS = [{"name": "Name", "type": "singleLineText"}, {"name": "Email", "type": "email"},
            {"name": "Stage", "type": "singleSelect",
             "options": {"choices": [{"name": "Lead"}, {"name": "Customer"}]}},
            {"name": "Notes", "type": "multilineText"}]


# ---------------------------------------------------------------- helpers
def _base(stack, rows: int = 3) -> str:
    """A new base whose Contacts table holds `rows` people (written to the store directly)."""
    from local.airtable_emulator.records import create_records

    emulator = stack.airtable
    base_id = emulator.create_base(f"MCP {uuid.uuid4().hex[:6]}",
                                   [{"name": "Contacts", "fields": CONTACTS}])
    people = [{"fields": {"Name": f"Person {i:03}", "Email": f"p{i}@example.com",
                          "Stage": "Lead", "Notes": "x" * 200}} for i in range(rows)]
    with emulator.store.lock:
        for start in range(0, rows, 10):
            create_records(emulator.store.table(base_id, "Contacts"),
                           {"records": people[start:start + 10]})
    return base_id


def _rows(stack, base_id: str) -> dict[str, dict[str, Any]]:
    emulator = stack.airtable
    with emulator.store.lock:
        table = emulator.store.table(base_id, "Contacts")
        return {r.id: {f.name: r.cells[f.id] for f in table.fields if f.id in r.cells}
                for r in table.records.values()}


def _user(api) -> dict[str, Any]:
    body = register(api)
    return {"id": body["user"]["id"], "headers": bearer(body["access_token"])}


async def _session(url: str, headers: dict[str, str], mode: str, work):
    async with httpx2.AsyncClient(headers=headers, timeout=90) as http, \
            Client(streamable_http_client(url, http_client=http), mode=mode) as client:
        return await work(client)


def _with_client(stack, headers: dict[str, str], work, mode: str = "auto"):
    """Run `work(client)` with a client connected to the stack's /api/mcp."""
    return anyio.run(_session, stack.url + "/api/mcp", headers, mode, work)


def _call(stack, headers: dict[str, str], tool: str, arguments: dict[str, Any] | None = None):
    async def work(client):
        return await client.call_tool(tool, arguments or {})
    return _with_client(stack, headers, work)


def _text(result) -> str:
    return " ".join(block.text for block in result.content)


# ---------------------------------------------------------------- protocol
def test_the_tools_are_listed_with_input_and_output_schemas_and_annotations(api, stack):
    user = _user(api)

    async def work(client):
        return client.protocol_version, (await client.list_tools()).tools

    version, tools = _with_client(stack, user["headers"], work)
    assert version == "2026-07-28"  # the current revision: stateless, no initialize
    assert {t.name for t in tools} == TOOLS
    for tool in tools:
        assert tool.input_schema["type"] == "object"
        assert tool.output_schema and tool.output_schema["type"] == "object", tool.name
        hints = tool.annotations
        assert hints.read_only_hint is (tool.name not in WRITES), tool.name
        assert hints.destructive_hint is not None and hints.idempotent_hint is not None
    by_name = {t.name: t for t in tools}
    assert by_name["delete_records"].annotations.destructive_hint is True
    assert by_name["create_records"].annotations.destructive_hint is False
    assert set(by_name["list_records"].input_schema["required"]) == {"base_id", "table"}
    assert {"fields", "offset", "filter", "formula", "sort", "max_records"} <= set(
        by_name["list_records"].input_schema["properties"])
    assert {"transaction_id", "status", "summary", "steps"} <= set(
        by_name["run_transaction"].output_schema["properties"])


def test_a_2025_client_initializes_and_calls_tools_without_a_session(api, stack):
    user = _user(api)

    async def work(client):
        workspaces = await client.call_tool("list_workspaces", {})
        return client.protocol_version, workspaces

    version, workspaces = _with_client(stack, user["headers"], work, mode="legacy")
    assert version == "2025-11-25"
    assert not workspaces.is_error
    assert [w["role"] for w in workspaces.structured_content["workspaces"]] == ["owner"]
    initialize = api.post("/api/mcp", headers={
        **user["headers"], "Accept": "application/json, text/event-stream"}, json={
        "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "probe", "version": "1"}}})
    assert initialize.status_code == 200, initialize.text
    assert initialize.json()["result"]["protocolVersion"] == "2025-06-18"
    assert "mcp-session-id" not in initialize.headers


def test_without_credentials_the_gateway_answers_401(api):
    response = api.post("/api/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert response.status_code == 401


def test_an_api_key_works_as_a_bearer_token(api, stack):
    user = _user(api)
    key = api.post("/api/auth/api-keys", headers=user["headers"], json={"name": "agent"})
    assert key.status_code == 201, key.text
    result = _call(stack, bearer(key.json()["key"]), "list_workspaces")
    assert not result.is_error, _text(result)
    assert len(result.structured_content["workspaces"]) == 1


# ---------------------------------------------------------------- reads
def test_an_agent_reads_a_base_compactly_page_by_page(api, stack):
    base_id = _base(stack, rows=130)
    user = _user(api)

    async def work(client):
        bases = await client.call_tool("list_bases", {})
        schema = await client.call_tool("describe_base", {"base_id": base_id})
        first = await client.call_tool("list_records", {
            "base_id": base_id, "table": "Contacts", "fields": ["Name"], "sort": ["Name"]})
        rest = await client.call_tool("list_records", {
            "base_id": base_id, "table": "Contacts", "fields": ["Name"], "sort": ["Name"],
            "offset": first.structured_content["offset"]})
        one = await client.call_tool("get_record", {
            "base_id": base_id, "table": "Contacts",
            "record_id": first.structured_content["records"][0]["id"]})
        resource = await client.read_resource(f"airtable://{base_id}/schema")
        return bases, schema, first, rest, one, resource

    bases, schema, first, rest, one, resource = _with_client(stack, user["headers"], work)
    assert base_id in [b["id"] for b in bases.structured_content["bases"]]
    table = schema.structured_content["tables"][0]
    assert table["name"] == "Contacts"
    fields = {f["name"]: f for f in table["fields"]}
    assert fields["Stage"]["type"] == "singleSelect"
    assert fields["Stage"]["choices"] == ["Lead", "Customer"]
    page = first.structured_content
    assert len(page["records"]) == 100 and page["offset"]
    assert page["records"][0]["fields"] == {"Name": "Person 000"}  # only the asked fields
    assert [r["fields"]["Name"] for r in rest.structured_content["records"]] == [
        f"Person {i:03}" for i in range(100, 130)]
    assert rest.structured_content.get("offset") is None
    assert one.structured_content["fields"]["Email"] == "p0@example.com"
    described = json.loads(resource.contents[0].text)
    assert [t["name"] for t in described["tables"]] == ["Contacts"]


# ---------------------------------------------------------------- transactions
def test_a_dry_run_reports_problems_and_writes_nothing(api, stack):
    base_id = _base(stack)
    user = _user(api)
    before = _rows(stack, base_id)
    result = _call(stack, user["headers"], "create_records", {
        "base_id": base_id, "table": "Contacts", "dry_run": True,
        "records": [{"fields": {"Name": "Linus"}}, {"fields": {"Colour": "red"}}]})
    assert not result.is_error, _text(result)
    report = result.structured_content
    assert report["status"] == "dry_run" and report["valid"] is False
    assert "Colour" in json.dumps(report["operations"][0]["problems"])
    assert "transaction_id" not in report
    assert _rows(stack, base_id) == before
    writes = [r for r in stack.airtable.requests_for(base_id) if r[1] != "GET"]
    assert writes == []


def test_a_transaction_writes_and_undo_transaction_restores_the_base(api, stack):
    base_id = _base(stack)
    user = _user(api)
    before = _rows(stack, base_id)
    target, doomed = sorted(before)[:2]

    async def work(client):
        done = await client.call_tool("run_transaction", {"base_id": base_id, "operations": [
            {"action": "create", "table": "Contacts",
             "records": [{"fields": {"Name": "Linus", "Stage": "Customer"}}]},
            {"action": "update", "table": "Contacts",
             "records": [{"id": target, "fields": {"Stage": "Customer"}}]},
            {"action": "delete", "table": "Contacts", "records": [{"id": doomed}]}]})
        written = _rows(stack, base_id)
        undone = await client.call_tool("undo_transaction", {
            "transaction_id": done.structured_content["transaction_id"]})
        fetched = await client.call_tool("get_transaction", {
            "transaction_id": done.structured_content["transaction_id"]})
        return done, written, undone, fetched

    done, written, undone, fetched = _with_client(stack, user["headers"], work)
    assert not done.is_error, _text(done)
    transaction = done.structured_content
    assert transaction["status"] == "succeeded"
    assert transaction["summary"].startswith("create 1 record in Contacts; update 1 record")
    assert [s["status"] for s in transaction["steps"]] == ["succeeded"] * 3
    assert written[target]["Stage"] == "Customer" and doomed not in written
    assert "Linus" in [r["Name"] for r in written.values()]
    assert not undone.is_error, _text(undone)
    assert undone.structured_content["status"] == "undone"
    assert fetched.structured_content["status"] == "undone"
    after = _rows(stack, base_id)
    assert sorted(after.values(), key=lambda r: r["Name"]) == sorted(
        before.values(), key=lambda r: r["Name"])
    assert target in after  # restored in place; the deleted one re-created


def test_a_failing_transaction_ends_compensated_as_an_error_result(api, stack):
    base_id = _base(stack)
    user = _user(api)
    before = _rows(stack, base_id)
    result = _call(stack, user["headers"], "run_transaction", {"base_id": base_id, "operations": [
        {"action": "create", "table": "Contacts", "records": [{"fields": {"Name": "Linus"}}]},
        {"action": "create", "table": "Contacts", "records": [{"fields": {"Colour": "red"}}]}]})
    assert result.is_error
    assert "rolled back" in _text(result) and "Colour" in _text(result)
    assert result.structured_content["status"] == "compensated"
    assert _rows(stack, base_id) == before


def test_a_single_table_write_is_an_undoable_transaction(api, stack):
    base_id = _base(stack)
    user = _user(api)
    before = _rows(stack, base_id)
    created = _call(stack, user["headers"], "create_records", {
        "base_id": base_id, "table": "Contacts",
        "records": [{"fields": {"Name": "Ada"}}, {"fields": {"Name": "Grace"}}]})
    assert not created.is_error, _text(created)
    ids = created.structured_content["output"]["operations"][0]["created"]
    assert len(ids) == 2 and set(ids) <= set(_rows(stack, base_id))
    deleted = _call(stack, user["headers"], "delete_records", {
        "base_id": base_id, "table": "Contacts", "ids": ids})
    assert deleted.structured_content["status"] == "succeeded", _text(deleted)
    assert _rows(stack, base_id) == before


# ---------------------------------------------------------------- access
def test_a_viewers_write_is_an_error_result_with_the_apis_sentence(api, stack, database_url):
    base_id = _base(stack)
    owner, viewer = _user(api), _user(api)
    team = api.post("/api/workspaces", json={"name": "Team"}, headers=owner["headers"]).json()
    engine = create_engine(database_url)
    with engine.begin() as conn:  # as an accepted invitation with the viewer role leaves it
        conn.execute(text("INSERT INTO workspace_members (workspace_id, user_id, role, "
                          "created_at) VALUES (:ws, :user, 'viewer', CURRENT_TIMESTAMP)"),
                     {"ws": team["id"], "user": viewer["id"]})
    engine.dispose()
    # Only the team's connection reaches the base for the viewer (as with DEFAULT_CONNECTION
    # =admins): their own workspace's default connection goes.
    own = [c for c in api.get("/api/airtable/connections", headers=viewer["headers"]).json()[
        "items"] if c["workspace_id"] != team["id"]]
    for connection in own:
        assert api.delete(f"/api/airtable/connections/{connection['id']}",
                          headers=viewer["headers"]).status_code == 204
    before = _rows(stack, base_id)
    read = _call(stack, viewer["headers"], "list_records", {"base_id": base_id,
                                                           "table": "Contacts"})
    assert not read.is_error, _text(read)
    refused = _call(stack, viewer["headers"], "update_records", {
        "base_id": base_id, "table": "Contacts",
        "records": [{"id": next(iter(before)), "fields": {"Name": "Mallory"}}]})
    assert refused.is_error
    assert _text(refused).startswith("Your role in the workspace that reaches this base (viewer)")
    assert refused.structured_content is None
    assert _rows(stack, base_id) == before


def test_an_outsider_cannot_see_or_undo_another_users_transaction(api, stack):
    base_id = _base(stack)
    author, outsider = _user(api), _user(api)
    done = _call(stack, author["headers"], "create_records", {
        "base_id": base_id, "table": "Contacts", "records": [{"fields": {"Name": "Ada"}}]})
    transaction_id = done.structured_content["transaction_id"]
    for tool in ("get_transaction", "undo_transaction"):
        result = _call(stack, outsider["headers"], tool, {"transaction_id": transaction_id})
        assert result.is_error and _text(result).startswith("No such saga."), tool
    assert "Ada" in [r["Name"] for r in _rows(stack, base_id).values()]


# ---------------------------------------------------------------- limits
@pytest.mark.timeout(300)
def test_an_agent_and_an_import_share_the_bases_limiter(api, stack):
    base_id = _base(stack, rows=0)
    user = _user(api)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["Name", "Email"])
    writer.writeheader()
    writer.writerows({"Name": f"Imported {i:03}", "Email": f"i{i}@example.com"}
                     for i in range(300))
    uploaded = api.post("/api/files/upload", headers=user["headers"],
                        files={"file": ("people.csv", out.getvalue().encode(), "text/csv")})
    assert uploaded.status_code == 201, uploaded.text
    started = api.post(f"/api/files/{uploaded.json()['id']}/import", headers=user["headers"],
                       json={"base_id": base_id, "table": "Contacts"})
    assert started.status_code == 202, started.text
    results: list[Any] = []
    agents = [threading.Thread(target=lambda n=n: results.append(_call(
        stack, user["headers"], "create_records", {
            "base_id": base_id, "table": "Contacts",
            "records": [{"fields": {"Name": f"Agent {n}-{i:02}"}} for i in range(50)]})))
        for n in range(2)]
    for agent in agents:
        agent.start()
    for agent in agents:
        agent.join()
    deadline = time.monotonic() + 240
    status = {}
    while time.monotonic() < deadline:
        status = api.get(f"/api/files/imports/{started.json()['import_id']}",
                         headers=user["headers"]).json()
        if status["status"] != "running":
            break
        time.sleep(0.5)
    assert status["status"] == "succeeded", status
    assert [r.structured_content["status"] for r in results] == ["succeeded"] * 2, [
        _text(r) for r in results]
    names = [r["Name"] for r in _rows(stack, base_id).values()]
    assert len(names) == 400
    statuses = [entry[4] for entry in stack.airtable.requests_for(base_id)]
    assert 429 not in statuses


# ---------------------------------------------------------------- workflows and inbox
def test_an_agent_runs_a_workflow_and_reads_what_it_notified(api, stack):
    user = _user(api)
    workflow = api.post("/api/workflows", headers=user["headers"], json={
        "name": "Ping", "trigger": {"type": "manual"},
        "steps": [{"id": "ping", "type": "notify",
                   "config": {"title": "Pinged {{ input.who }}", "body": "From an agent."}}]})
    assert workflow.status_code == 201, workflow.text
    listed = _call(stack, user["headers"], "list_workflows")
    assert [(w["id"], w["trigger"]) for w in listed.structured_content["workflows"]] == [
        (workflow.json()["id"], "manual")]
    started = _call(stack, user["headers"], "run_workflow", {
        "workflow_id": workflow.json()["id"], "input": {"who": "Ada"}})
    assert not started.is_error, _text(started)
    execution_id = started.structured_content["execution_id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        execution = api.get(f"/api/workflows/executions/{execution_id}",
                            headers=user["headers"]).json()
        if execution["status"] != "running":
            break
        time.sleep(0.3)
    assert execution["status"] == "succeeded", execution
    while time.monotonic() < deadline:
        inbox = _call(stack, user["headers"], "list_notifications", {"unread": True})
        titles = [n["title"] for n in inbox.structured_content["notifications"]]
        if "Pinged Ada" in titles:
            break
        time.sleep(0.3)
    assert "Pinged Ada" in titles

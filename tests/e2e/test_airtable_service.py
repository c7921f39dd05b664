"""The Airtable service over HTTP, with the emulator behind it (5 requests/s per base)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.authutil import bearer, register
from tests.helpers import worker_log

PEOPLE = [{"name": "Name", "type": "singleLineText"},
          {"name": "Age", "type": "number", "options": {"precision": 0}},
          {"name": "Notes", "type": "multilineText"}]


@pytest.fixture
def member(api):
    """Headers of a fresh member (who has no connection: the default one serves them)."""
    return bearer(register(api)["access_token"])


@pytest.fixture
def base_id(stack):
    """A fresh base with a People table, created directly in the emulator."""
    base = stack.airtable.create_base(f"Test {uuid.uuid4().hex[:6]}",
                                      tables=[{"name": "People", "fields": PEOPLE}])
    stack.airtable.reset_requests()
    return base


def _calls(stack, base_id, method=None):
    return [r for r in stack.airtable.requests_for(base_id) if method in (None, r[1])]


def _records_url(base_id, table="People"):
    return f"/api/airtable/bases/{base_id}/tables/{table}/records"


def test_300_records_are_created_in_one_call_with_30_airtable_requests(api, stack, member,
                                                                        base_id):
    rows = [{"fields": {"Name": f"Person {i}", "Age": i}} for i in range(300)]
    response = api.post(_records_url(base_id), json={"records": rows}, headers=member)
    assert response.status_code == 201, response.text
    created = response.json()["records"]
    assert [r["fields"]["Name"] for r in created] == [f"Person {i}" for i in range(300)]
    assert len(_calls(stack, base_id, "POST")) == 30
    assert all(status == 200 for *_, status in _calls(stack, base_id))


def test_pagination_walks_every_page_with_offsets(api, stack, member, base_id):
    rows = [{"fields": {"Name": f"P{i:03}", "Age": i}} for i in range(120)]
    assert api.post(_records_url(base_id), json={"records": rows},
                    headers=member).status_code == 201
    seen, offset, pages = [], None, 0
    while True:
        params = {"page_size": 50, **({"offset": offset} if offset else {})}
        body = api.get(_records_url(base_id), params=params, headers=member).json()
        seen += [r["id"] for r in body["records"]]
        pages += 1
        offset = body["offset"]
        if not offset:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 120


def test_list_options_reach_airtable(api, member, base_id):
    rows = [{"fields": {"Name": n, "Age": a, "Notes": "x"}} for n, a in
            [("Cy", 30), ("Al", 50), ("Bo", 40)]]
    api.post(_records_url(base_id), json={"records": rows}, headers=member)
    body = api.get(_records_url(base_id) + "?sort=-Age&fields=Name&fields=Age&max_records=2",
                   headers=member).json()
    assert [r["fields"] for r in body["records"]] == [{"Name": "Al", "Age": 50},
                                                      {"Name": "Bo", "Age": 40}]
    assert body["offset"] is None


@pytest.mark.parametrize("value", ["O'Brien", "{Name}", "x' , TRUE(), '", "back\\slash",
                                   'say "hi"', "') OR TRUE() OR ('"])
def test_filter_values_match_literally(api, member, base_id, value):
    names = [value, "plain", "O", "TRUE"]
    api.post(_records_url(base_id), json={"records": [{"fields": {"Name": n}} for n in names]},
             headers=member)
    import json

    response = api.get(_records_url(base_id), params={"filter": json.dumps({"Name": value})},
                       headers=member)
    assert response.status_code == 200, response.text
    assert [r["fields"]["Name"] for r in response.json()["records"]] == [value]


def test_filter_combines_fields_with_and_and_null_means_blank(api, member, base_id):
    import json

    rows = [{"fields": {"Name": "A", "Age": 1}}, {"fields": {"Name": "A", "Age": 2}},
            {"fields": {"Name": "B"}}]
    api.post(_records_url(base_id), json={"records": rows}, headers=member)
    both = api.get(_records_url(base_id), params={"filter": json.dumps({"Name": "A", "Age": 2})},
                   headers=member).json()["records"]
    assert [r["fields"]["Age"] for r in both] == [2]
    blank = api.get(_records_url(base_id), params={"filter": json.dumps({"Notes": None})},
                    headers=member).json()["records"]
    assert len(blank) == 3


def test_raw_formula_is_passed_as_is(api, member, base_id):
    rows = [{"fields": {"Name": "Young", "Age": 10}}, {"fields": {"Name": "Old", "Age": 90}}]
    api.post(_records_url(base_id), json={"records": rows}, headers=member)
    body = api.get(_records_url(base_id), params={"formula": "{Age} > 50"},
                   headers=member).json()
    assert [r["fields"]["Name"] for r in body["records"]] == ["Old"]
    bad = api.get(_records_url(base_id), params={"formula": "{Age} >"}, headers=member)
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "validation_error"


def test_invalid_filter_gets_422(api, member, base_id):
    for value in ["not json", "[1, 2]", '{"Name": [1]}', "{}"]:
        response = api.get(_records_url(base_id), params={"filter": value}, headers=member)
        assert response.status_code == 422, value
        assert response.json()["error"]["code"] == "validation_error"


def test_upsert_creates_and_updates_by_merge_field(api, member, base_id):
    api.post(_records_url(base_id), json={"records": [{"fields": {"Name": "Ada", "Age": 36}}]},
             headers=member)
    response = api.patch(_records_url(base_id), headers=member, json={
        "merge_on": ["Name"], "records": [{"fields": {"Name": "Ada", "Age": 37}},
                                          {"fields": {"Name": "Grace", "Age": 45}}]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["created_ids"]) == 1 and len(body["updated_ids"]) == 1
    ages = {r["fields"]["Name"]: r["fields"]["Age"] for r in body["records"]}
    assert ages == {"Ada": 37, "Grace": 45}


def test_update_replace_get_and_delete_records(api, member, base_id):
    created = api.post(_records_url(base_id), headers=member, json={"records": [
        {"fields": {"Name": "A", "Age": 1, "Notes": "keep"}}, {"fields": {"Name": "B"}},
        {"fields": {"Name": "C"}}]}).json()["records"]
    a, b, c = (r["id"] for r in created)
    patched = api.patch(f"{_records_url(base_id)}/{a}", json={"fields": {"Age": 2}},
                        headers=member).json()
    assert patched["fields"] == {"Name": "A", "Age": 2, "Notes": "keep"}
    replaced = api.put(f"{_records_url(base_id)}/{a}", json={"fields": {"Name": "A2"}},
                       headers=member).json()
    assert replaced["fields"] == {"Name": "A2"}
    batch = api.patch(_records_url(base_id), headers=member, json={
        "records": [{"id": b, "fields": {"Age": 5}}, {"id": c, "fields": {"Age": 6}}]})
    assert [r["fields"]["Age"] for r in batch.json()["records"]] == [5, 6]
    assert api.get(f"{_records_url(base_id)}/{b}", headers=member).json()["fields"]["Age"] == 5
    assert api.delete(f"{_records_url(base_id)}/{a}", headers=member).json() == {"deleted": [a]}
    assert api.delete(f"{_records_url(base_id)}?ids={b}&ids={c}",
                      headers=member).json() == {"deleted": [b, c]}
    missing = api.get(f"{_records_url(base_id)}/{a}", headers=member)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_airtable_validation_errors_become_422_with_airtables_message(api, member, base_id):
    response = api.post(_records_url(base_id), json={"records": [{"fields": {"Nope": 1}}]},
                        headers=member)
    assert response.status_code == 422
    assert "Unknown field name" in response.json()["error"]["message"]
    no_id = api.patch(_records_url(base_id), json={"records": [{"fields": {"Name": "x"}}]},
                      headers=member)
    assert no_id.status_code == 422
    assert no_id.json()["error"]["details"] == [{"field": "records.0.id", "problem": "missing"}]


def test_unknown_base_is_not_found(api, member):
    response = api.get(_records_url("appDoesNotExist00"), headers=member)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_airtable_down_is_an_upstream_error(api, stack, member, base_id):
    stack.airtable.stop()
    try:
        response = api.get(_records_url(base_id) + "?page_size=7", headers=member)
    finally:
        stack.airtable.start()
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_error"


def test_schema_routes_create_and_rename_tables_and_fields(api, member, base_id):
    schema_url = f"/api/airtable/bases/{base_id}/schema"
    first = api.get(schema_url, headers=member)
    assert first.headers["X-Cache"] == "MISS"
    assert api.get(schema_url, headers=member).headers["X-Cache"] == "HIT"
    table = api.post(f"/api/airtable/bases/{base_id}/tables", headers=member, json={
        "name": "Projects", "fields": [{"name": "Title", "type": "singleLineText"}]})
    assert table.status_code == 201, table.text
    table_id = table.json()["id"]
    renamed = api.patch(f"/api/airtable/bases/{base_id}/tables/{table_id}", headers=member,
                        json={"name": "Initiatives"})
    assert renamed.json()["name"] == "Initiatives"
    field = api.post(f"/api/airtable/bases/{base_id}/tables/{table_id}/fields", headers=member,
                     json={"name": "Budget", "type": "number", "options": {"precision": 2}})
    assert field.status_code == 201, field.text
    field_id = field.json()["id"]
    api.patch(f"/api/airtable/bases/{base_id}/tables/{table_id}/fields/{field_id}",
              headers=member, json={"name": "Cost"})
    after = api.get(schema_url, headers=member)
    assert after.headers["X-Cache"] == "MISS"
    tables = {t["name"]: t for t in after.json()["tables"]}
    assert [f["name"] for f in tables["Initiatives"]["fields"]] == ["Title", "Cost"]
    empty = api.patch(f"/api/airtable/bases/{base_id}/tables/{table_id}", headers=member,
                      json={})
    assert empty.status_code == 422


def test_bases_lists_the_demo_base_for_a_user_without_connection(api, stack, member):
    body = api.get("/api/airtable/bases", headers=member).json()
    assert stack.demo_base_id in [b["id"] for b in body["items"]]


def test_same_list_twice_calls_airtable_once_and_a_write_invalidates(api, stack, member,
                                                                      base_id):
    api.post(_records_url(base_id), json={"records": [{"fields": {"Name": "Old"}}]},
             headers=member)
    stack.airtable.reset_requests()
    first = api.get(_records_url(base_id) + "?page_size=10", headers=member)
    second = api.get(_records_url(base_id) + "?page_size=10", headers=member)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "HIT")
    assert first.json() == second.json()
    assert len(_calls(stack, base_id, "GET")) == 1
    api.post(_records_url(base_id), json={"records": [{"fields": {"Name": "New"}}]},
             headers=member)
    third = api.get(_records_url(base_id) + "?page_size=10", headers=member)
    assert third.headers["X-Cache"] == "MISS"
    assert [r["fields"]["Name"] for r in third.json()["records"]] == ["Old", "New"]


def test_connections_are_verified_encrypted_and_never_shown(api, stack, member, database_url):
    token = f"patSecret{uuid.uuid4().hex}"
    stack.airtable.tokens[token] = "usrCONNTEST000001"
    bad = api.post("/api/airtable/connections", headers=member,
                   json={"name": "Bad", "token": "patNotKnownToAirtable"})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "token"
    created = api.post("/api/airtable/connections", headers=member,
                       json={"name": "Mine", "token": token})
    assert created.status_code == 201, created.text
    assert token not in created.text
    assert created.json()["token_last4"] == token[-4:]
    listed = api.get("/api/airtable/connections", headers=member)
    assert token not in listed.text
    assert [(c["name"], c["uses_default"], c["token_last4"]) for c in listed.json()["items"]] \
        == [("Default (this deployment)", True, None), ("Mine", False, token[-4:])]
    bases = api.get("/api/airtable/bases", headers=member,
                    params={"connection_id": created.json()["id"]})
    assert bases.status_code == 200
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM airtable_connections")).all()
    engine.dispose()
    assert rows and all(token not in " ".join(map(str, row)) for row in rows)
    assert token not in worker_log(stack)


def test_another_users_connection_is_not_found(api, stack, member):
    token = f"patOther{uuid.uuid4().hex}"
    stack.airtable.tokens[token] = "usrCONNTEST000002"
    theirs = api.post("/api/airtable/connections", headers=member,
                      json={"name": "Theirs", "token": token}).json()["id"]
    intruder = bearer(register(api)["access_token"])
    for response in (
        api.get("/api/airtable/bases", headers=intruder, params={"connection_id": theirs}),
        api.delete(f"/api/airtable/connections/{theirs}", headers=intruder),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert api.delete(f"/api/airtable/connections/{theirs}", headers=member).status_code == 204


def test_idempotency_key_replays_the_first_create_without_writing_twice(api, stack, member,
                                                                         base_id):
    headers = {**member, "Idempotency-Key": f"import-{uuid.uuid4().hex}"}
    body = {"records": [{"fields": {"Name": "Once"}}]}
    first = api.post(_records_url(base_id), json=body, headers=headers)
    again = api.post(_records_url(base_id), json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len(_calls(stack, base_id, "POST")) == 1
    other = api.post(_records_url(base_id), json={"records": [{"fields": {"Name": "Twice"}}]},
                     headers=headers)
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "conflict"


def test_a_create_that_fails_partway_leaves_the_table_as_it_was(api, stack, member, base_id):
    rows = [{"fields": {"Name": f"Row {i}"}} for i in range(25)]
    rows[22] = {"fields": {"Name": "Bad", "Age": "not a number"}}
    response = api.post(_records_url(base_id), json={"records": rows}, headers=member)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert "20 records created before were deleted" in error["message"]
    assert {"field": "records[20:25]"}.items() <= error["details"][-1].items()
    assert api.get(_records_url(base_id), headers=member).json()["records"] == []

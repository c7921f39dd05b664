"""Hardening over HTTP: ids checked before any work, refused writes keep the cache, bounded
writes and bodies, and public health that leaks nothing and costs Airtable nothing."""

from __future__ import annotations

import re
import uuid
from urllib.parse import unquote

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.authutil import bearer, register
from tests.helpers import wait_for

pytestmark = pytest.mark.e2e

PEOPLE = [{"name": "Name", "type": "singleLineText"}, {"name": "Age", "type": "number",
                                                       "options": {"precision": 0}}]


@pytest.fixture
def member(api):
    return bearer(register(api)["access_token"])


@pytest.fixture
def base_id(stack):
    base = stack.airtable.create_base(f"Hardening {uuid.uuid4().hex[:6]}",
                                      tables=[{"name": "People", "fields": PEOPLE}])
    stack.airtable.reset_requests()
    return base


def _records_url(base_id: str, table: str = "People") -> str:
    return f"/api/airtable/bases/{base_id}/tables/{table}/records"


# ------------------------------------------------------------------ item 4: ids
@pytest.mark.parametrize("path", [
    _records_url("app" + "A" * 40),                       # longer than the limiter's column
    _records_url("appSHORT"),
    _records_url("tblAAAAAAAAAAAAAA"),                    # a table id where a base id goes
    _records_url("appAAAAAAAAAAAAAA") + "/recX",
    "/api/airtable/bases/app%27%3B--AAAAAAAAAAA/schema",
])
def test_malformed_airtable_ids_are_422_before_airtable_or_the_limiter(api, stack, member,
                                                                       database_url, path):
    stack.airtable.reset_requests()
    response = api.get(path, headers=member)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    # Other work may reach the emulator meanwhile (the member's onboarding): none of it may
    # carry the malformed id.
    malformed = unquote(path.split("/")[4])
    assert [r for r in stack.airtable.requests if malformed in unquote(r[2])] == []
    with create_engine(database_url).connect() as conn:
        slots = conn.execute(text("SELECT DISTINCT rate_key FROM airtable_rate_window")) \
            .scalars().all()
    assert all(len(s) <= 32 and "SHORT" not in s and not s.startswith("tbl") for s in slots)


def test_a_malformed_record_id_in_a_delete_list_is_422(api, stack, member, base_id):
    response = api.delete(_records_url(base_id) + "?ids=recAAAAAAAAAAAAAA,nope",
                          headers=member)
    assert response.status_code == 422
    assert stack.airtable.requests_for(base_id) == []


# ------------------------------------------------------------------ item 5: cache
def test_a_write_airtable_refuses_keeps_the_cache_and_a_real_write_clears_it(api, member,
                                                                            base_id):
    url = _records_url(base_id) + "?page_size=5"
    assert api.get(url, headers=member).headers["X-Cache"] == "MISS"
    assert api.get(url, headers=member).headers["X-Cache"] == "HIT"
    missing = api.patch(_records_url(base_id) + "/recAAAAAAAAAAAAAA", headers=member,
                        json={"fields": {"Name": "x"}})
    assert missing.status_code == 404
    refused = api.post(_records_url(base_id), headers=member,
                       json={"records": [{"fields": {"NoSuchField": 1}}]})
    assert refused.status_code == 422
    assert api.get(url, headers=member).headers["X-Cache"] == "HIT"
    assert api.post(_records_url(base_id), headers=member,
                    json={"records": [{"fields": {"Name": "Ada"}}]}).status_code == 201
    after = api.get(url, headers=member)
    assert after.headers["X-Cache"] == "MISS"
    assert [r["fields"]["Name"] for r in after.json()["records"]] == ["Ada"]


# ------------------------------------------------------------------ item 8: limits
@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_more_than_500_records_is_413_pointing_to_imports_and_sagas(api, stack, member,
                                                                    base_id, method):
    if method == "POST":
        response = api.post(_records_url(base_id), headers=member,
                            json={"records": [{"fields": {"Name": str(i)}} for i in range(501)]})
    elif method == "PATCH":
        response = api.patch(_records_url(base_id), headers=member, json={
            "records": [{"id": f"rec{i:014d}", "fields": {"Name": "x"}} for i in range(501)]})
    else:
        ids = ",".join(f"rec{i:014d}" for i in range(501))
        response = api.delete(_records_url(base_id) + f"?ids={ids}", headers=member)
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert "import" in error["message"] and "saga" in error["message"]
    assert stack.airtable.requests_for(base_id) == []


def test_500_records_are_still_one_request(api, member, base_id):
    response = api.post(_records_url(base_id), headers=member,
                        json={"records": [{"fields": {"Name": str(i)}} for i in range(500)]})
    assert response.status_code == 201, response.text
    assert len(response.json()["records"]) == 500


@pytest.mark.parametrize("levels", [65, 50_000])
def test_json_nested_deeper_than_64_levels_is_422_not_500(api, member, base_id, levels):
    nested = "[" * levels + "1" + "]" * levels
    body = '{"records": [{"fields": {"Name": ' + nested + "}}]}"
    response = api.post(_records_url(base_id), headers={**member,
                                                         "Content-Type": "application/json"},
                        data=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"


# ------------------------------------------------------------------ item 7: health
def _forget_airtable_health(stack) -> None:
    stack.client("dynamodb").delete_item(TableName=stack.resource("CacheTable"),
                                         Key={"pk": {"S": "health#airtable"}})


def _whoamis(stack) -> int:
    return sum(1 for _, method, path, *_ in stack.airtable.requests
               if path.endswith("/meta/whoami"))


def test_public_health_calls_airtable_at_most_once_a_minute(api, stack):
    _forget_airtable_health(stack)
    stack.airtable.reset_requests()
    for _ in range(5):
        assert api.get("/api/airtable/health").status_code == 200
    assert api.get("/api/health").json()["dependencies"]["airtable"] == "ok"
    assert _whoamis(stack) == 1


def test_a_failing_check_is_named_with_its_error_type_only(api, stack):
    stack.airtable.stop()
    _forget_airtable_health(stack)
    try:
        response = api.get("/api/airtable/health")
        aggregate = api.get("/api/health")
    finally:
        stack.airtable.start()
        _forget_airtable_health(stack)
    assert response.status_code == 503
    failed = response.json()["checks"]["airtable"]
    assert failed["status"] == "error"
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", failed["error"]), failed
    host = stack.airtable.url.split("//")[1]
    for text_ in (response.text, aggregate.text):
        assert host not in text_ and "127.0.0.1" not in text_ and "Traceback" not in text_
    wait_for(lambda: api.get("/api/airtable/health").status_code == 200, timeout=10)

"""The Airtable emulator, specified by driving it with the real pyairtable client."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
from pyairtable import Api, Table
from pyairtable.formulas import AND, EQ, FIND, GT, LOWER, NOT, OR, RECORD_ID, SEARCH, Field, match
from pyairtable.models import schema as models

from local.airtable_emulator import AirtableEmulator
from tests.helpers import ManualClock

TOKEN = "patTEST"
USER_ID = "usrTEST0000000001"

PEOPLE_FIELDS = [
    {"name": "Name", "type": "singleLineText"},
    {"name": "Age", "type": "number", "options": {"precision": 0}},
    {"name": "Notes", "type": "multilineText"},
    {"name": "Tags", "type": "multipleSelects",
     "options": {"choices": [{"name": "vip"}, {"name": "new"}]}},
    {"name": "Done", "type": "checkbox", "options": {"icon": "check", "color": "greenBright"}},
    {"name": "Due", "type": "date", "options": {"dateFormat": {"name": "iso"}}},
]


@pytest.fixture
def api(airtable_emulator: AirtableEmulator) -> Api:
    """A pyairtable client pointed at the emulator."""
    return Api(TOKEN, endpoint_url=airtable_emulator.url)


@pytest.fixture
def people(airtable_emulator: AirtableEmulator, api: Api) -> Table:
    """An empty "People" table in a fresh base."""
    base_id = airtable_emulator.create_base("Test", [{"name": "People", "fields": PEOPLE_FIELDS}])
    return api.table(base_id, "People")


def list_calls(emulator: AirtableEmulator, base_id: str, method: str = "GET") -> list[Any]:
    """Record-list requests (not meta calls) the emulator saw for a base."""
    return [entry for entry in emulator.requests_for(base_id)
            if entry[1] == method and "/meta/" not in entry[2]]


def names(records: list[dict[str, Any]]) -> list[str]:
    """The Name cell of each record, in order."""
    return [record["fields"].get("Name", "") for record in records]


# --- authentication and metadata ------------------------------------------------------------

def test_whoami_reports_the_tokens_user(api: Api) -> None:
    assert api.whoami() == {"id": USER_ID}


def test_unknown_token_gets_401(airtable_emulator: AirtableEmulator) -> None:
    base_id = airtable_emulator.seed_demo()
    table = Api("patWRONG", endpoint_url=airtable_emulator.url).table(base_id, "Contacts")
    with pytest.raises(requests.HTTPError) as caught:
        table.all()
    assert caught.value.response.status_code == 401
    assert caught.value.response.json() == {
        "error": {"type": "AUTHENTICATION_REQUIRED", "message": "Authentication required"}}


def test_demo_base_is_seeded_once_with_typed_schema(
        airtable_emulator: AirtableEmulator, api: Api) -> None:
    base_id = airtable_emulator.seed_demo()
    assert airtable_emulator.seed_demo() == base_id
    assert [(b.id, b.name, b.permission_level) for b in api.bases()] == [
        (base_id, "Demo CRM", "create")]
    schema = api.base(base_id).schema()
    contacts, deals = schema.table("Contacts"), schema.table("Deals")
    assert contacts.primary_field_id == contacts.field("Name").id
    assert isinstance(contacts.field("Email"), models.EmailFieldSchema)
    assert isinstance(contacts.field("Score"), models.NumberFieldSchema)
    status = contacts.field("Status")
    assert isinstance(status, models.SingleSelectFieldSchema)
    assert [c.name for c in status.options.choices] == ["Lead", "Customer", "Churned"]
    assert isinstance(deals.field("Amount"), models.CurrencyFieldSchema)
    assert deals.field("Amount").options.symbol == "$"
    assert isinstance(deals.field("Closed"), models.CheckboxFieldSchema)
    assert contacts.view("Grid view").visible_field_ids == [f.id for f in contacts.fields]
    assert len(api.table(base_id, "Contacts").all()) == 12


def test_create_base_table_and_fields_then_rename(api: Api) -> None:
    base = api.create_base("wspTEST0000000001", "Made by API", [
        {"name": "Items", "fields": [{"name": "Title", "type": "singleLineText"}]}])
    table = base.create_table("Orders", [
        {"name": "Ref", "type": "singleLineText"},
        {"name": "When", "type": "dateTime", "options": {
            "timeZone": "utc", "dateFormat": {"name": "iso"}, "timeFormat": {"name": "24hour"}}},
    ], description="Customer orders")
    qty = table.create_field("Qty", "number", options={"precision": 2})
    assert isinstance(qty, models.NumberFieldSchema)
    assert isinstance(table.schema().field("When"), models.DateTimeFieldSchema)

    qty.name = "Quantity"
    qty.save()
    table_schema = table.schema(force=True)
    table_schema.name = "Purchase Orders"
    table_schema.save()

    fresh = base.schema(force=True).table("Purchase Orders")
    assert fresh.description == "Customer orders"
    assert [f.name for f in fresh.fields] == ["Ref", "When", "Quantity"]
    assert api.table(base.id, "Purchase Orders").create({"Quantity": 1.5})["fields"] == {
        "Quantity": 1.5}


def test_invalid_field_options_and_duplicate_names_are_rejected(people: Table) -> None:
    with pytest.raises(requests.HTTPError, match="INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE"):
        people.create_field("Bad", "singleLineText", options={"x": 1})
    with pytest.raises(requests.HTTPError, match="DUPLICATE_OR_EMPTY_FIELD_NAME"):
        people.create_field("name", "singleLineText")


def test_unknown_base_is_403_and_unknown_table_is_404(
        airtable_emulator: AirtableEmulator, api: Api) -> None:
    with pytest.raises(requests.HTTPError) as unknown_base:
        api.table("appNOPE000000000", "People").all()
    assert unknown_base.value.response.status_code == 403
    assert "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND" in unknown_base.value.response.text
    base_id = airtable_emulator.seed_demo()
    with pytest.raises(requests.HTTPError) as unknown_table:
        api.table(base_id, "Nope").all()
    assert unknown_table.value.response.status_code == 404


# --- listing and pagination -----------------------------------------------------------------

def test_all_pages_through_250_records_in_three_requests(
        airtable_emulator: AirtableEmulator, people: Table) -> None:
    people.batch_create([{"Name": f"p{i:03d}", "Age": i} for i in range(250)])
    airtable_emulator.reset_requests()

    records = people.all()

    assert names(records) == [f"p{i:03d}" for i in range(250)]
    assert len(list_calls(airtable_emulator, people.base.id)) == 3


def test_page_sizes_and_max_records_are_honoured(people: Table) -> None:
    people.batch_create([{"Name": f"p{i:03d}"} for i in range(250)])
    assert [len(page) for page in people.iterate(page_size=100)] == [100, 100, 50]
    assert [len(page) for page in people.iterate(page_size=10, max_records=25)] == [10, 10, 5]
    assert names(people.all(max_records=3)) == ["p000", "p001", "p002"]
    assert names([people.first()]) == ["p000"]


def test_batch_create_sends_ten_records_per_request(
        airtable_emulator: AirtableEmulator, people: Table) -> None:
    created = people.batch_create([{"Name": f"n{i}"} for i in range(23)])
    assert names(created) == [f"n{i}" for i in range(23)]
    assert len(list_calls(airtable_emulator, people.base.id, "POST")) == 3


def test_more_than_ten_records_in_one_request_is_rejected(
        airtable_emulator: AirtableEmulator, people: Table) -> None:
    response = requests.post(
        f"{airtable_emulator.url}/v0/{people.base.id}/People",
        headers={"Authorization": f"Bearer {TOKEN}"},
        json={"records": [{"fields": {"Name": str(i)}} for i in range(11)]},
    )
    assert response.status_code == 422
    assert response.json()["error"]["message"] == (
        "A maximum of 10 records can be created per request but you have provided 11.")


def test_sort_fields_view_and_field_ids(people: Table) -> None:
    people.batch_create([{"Name": "b", "Age": 2}, {"Name": "c", "Age": 1},
                         {"Name": "a", "Age": 2}, {"Name": "d"}])
    assert names(people.all(sort=["-Age", "Name"])) == ["a", "b", "c", "d"]
    assert names(people.all(sort=["Age"])) == ["d", "c", "b", "a"]
    assert [r["fields"] for r in people.all(fields=["Age"], max_records=2)] == [
        {"Age": 2}, {"Age": 1}]
    assert names(people.all(view="Grid view")) == ["b", "c", "a", "d"]
    age_id = people.schema().field("Age").id
    assert people.first(use_field_ids=True, formula="{Name}='b'")["fields"][age_id] == 2
    with pytest.raises(requests.HTTPError, match="VIEW_NAME_NOT_FOUND"):
        people.all(view="Nope")
    with pytest.raises(requests.HTTPError, match="UNKNOWN_FIELD_NAME"):
        people.all(sort=["Nope"])


def test_invalid_offset_is_rejected(airtable_emulator: AirtableEmulator, people: Table) -> None:
    response = requests.get(
        f"{airtable_emulator.url}/v0/{people.base.id}/People",
        params={"offset": "itrBOGUS"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 422
    assert response.json() == {"error": {"type": "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"}}


def test_very_long_formulas_switch_to_post_list_records(
        airtable_emulator: AirtableEmulator, people: Table) -> None:
    wanted = people.batch_create([{"Name": f"n{i}"} for i in range(3)])[:2]
    padding = [EQ(RECORD_ID(), f"rec{i:014d}") for i in range(700)]
    formula = OR(*padding, *(EQ(RECORD_ID(), r["id"]) for r in wanted))
    assert len(str(formula)) > 16000

    assert names(people.all(formula=formula)) == ["n0", "n1"]
    assert list_calls(airtable_emulator, people.base.id, "POST")[-1][2].endswith("/listRecords")


def test_table_names_with_slashes_and_spaces(airtable_emulator: AirtableEmulator, api: Api) -> None:
    base_id = airtable_emulator.create_base(
        "Odd", [{"name": "A/B c", "fields": [{"name": "Name", "type": "singleLineText"}]}])
    table = api.table(base_id, "A/B c")
    table.create({"Name": "x"})
    assert names(table.all()) == ["x"]


# --- writes ---------------------------------------------------------------------------------

def test_patch_merges_put_replaces_and_empty_values_are_omitted(people: Table) -> None:
    record = people.create({"Name": "Ann", "Age": 30, "Notes": "", "Done": False})
    assert record["fields"] == {"Name": "Ann", "Age": 30}

    assert people.update(record["id"], {"Age": 0})["fields"] == {"Name": "Ann", "Age": 0}
    assert people.update(record["id"], {"Notes": "hi"}, replace=True)["fields"] == {
        "Notes": "hi"}
    assert people.get(record["id"])["fields"] == {"Notes": "hi"}

    updated = people.batch_update([{"id": record["id"], "fields": {"Name": "Bo"}}])
    assert updated[0]["fields"] == {"Name": "Bo", "Notes": "hi"}


def test_writes_accept_field_ids_and_reject_unknown_fields(people: Table) -> None:
    name_id = people.schema().field("Name").id
    assert people.create({name_id: "by id"})["fields"] == {"Name": "by id"}
    with pytest.raises(requests.HTTPError) as caught:
        people.create({"Nope": 1})
    assert caught.value.response.status_code == 422
    assert caught.value.response.json()["error"] == {
        "type": "UNKNOWN_FIELD_NAME", "message": 'Unknown field name: "Nope"'}


def test_type_checks_and_typecast(people: Table) -> None:
    with pytest.raises(requests.HTTPError, match="INVALID_VALUE_FOR_COLUMN"):
        people.create({"Age": "12"})
    assert people.create({"Age": "12"}, typecast=True)["fields"] == {"Age": 12}
    with pytest.raises(requests.HTTPError, match="INVALID_MULTIPLE_CHOICE_OPTIONS"):
        people.create({"Tags": ["vip", "gold"]})
    assert people.create({"Tags": ["vip", "gold"]}, typecast=True)["fields"] == {
        "Tags": ["vip", "gold"]}
    choices = people.schema(force=True).field("Tags").options.choices
    assert [c.name for c in choices] == ["vip", "new", "gold"]
    with pytest.raises(requests.HTTPError, match="INVALID_VALUE_FOR_COLUMN"):
        people.create({"Done": "yes"})


def test_delete_single_and_batch(airtable_emulator: AirtableEmulator, people: Table) -> None:
    created = people.batch_create([{"Name": str(i)} for i in range(12)])
    ids = [r["id"] for r in created]
    assert people.delete(ids[0]) == {"id": ids[0], "deleted": True}
    airtable_emulator.reset_requests()
    deleted = people.batch_delete(ids[1:])
    assert [d["id"] for d in deleted] == ids[1:]
    assert len(list_calls(airtable_emulator, people.base.id, "DELETE")) == 2
    assert people.all() == []
    with pytest.raises(requests.HTTPError) as caught:
        people.get(ids[0])
    assert caught.value.response.status_code == 404


def test_batch_upsert_creates_and_updates(people: Table) -> None:
    existing = people.create({"Name": "Ann", "Age": 30})
    result = people.batch_upsert(
        [{"fields": {"Name": "Ann", "Age": 31}}, {"fields": {"Name": "Bob", "Age": 40}}],
        key_fields=["Name"])
    assert result["updatedRecords"] == [existing["id"]]
    assert len(result["createdRecords"]) == 1
    assert [r["fields"] for r in result["records"]] == [
        {"Name": "Ann", "Age": 31}, {"Name": "Bob", "Age": 40}]

    people.create({"Name": "Bob"})
    with pytest.raises(requests.HTTPError) as caught:
        people.batch_upsert([{"fields": {"Name": "Bob", "Age": 1}}], key_fields=["Name"])
    assert caught.value.response.status_code == 422


# --- filterByFormula ------------------------------------------------------------------------

@pytest.fixture
def crowd(people: Table) -> Table:
    """People with a spread of values for formula tests."""
    people.batch_create([
        {"Name": "John", "Age": 21, "Notes": "likes ABC", "Tags": ["vip"], "Done": True},
        {"Name": "Jane", "Age": 35, "Notes": "abc fan", "Due": "2024-01-31"},
        {"Name": "O'Brien \\ co", "Age": 0},
        {"Name": "{x}", "Notes": "curly"},
        {"Name": "john"},
    ])
    return people


@pytest.mark.parametrize(("formula", "expected"), [
    (match({"Name": "John"}), ["John"]),
    (match({"Name": "John", "Age": 21}), ["John"]),
    (match({"Name": "Jane", "Age": (">=", 30)}, match_any=True), ["Jane"]),
    (AND(GT(Field("Age"), 20), NOT(EQ(Field("Name"), "Jane"))), ["John"]),
    (OR(EQ(Field("Name"), "Jane"), EQ(Field("Done"), True)), ["John", "Jane"]),
    (FIND("abc", Field("Notes")), ["Jane"]),
    (SEARCH("abc", LOWER(Field("Notes"))), ["John", "Jane"]),
    (match({"Name": "O'Brien \\ co"}), ["O'Brien \\ co"]),
    (match({"Name": "{x}"}), ["{x}"]),
    ("{Notes}=BLANK()", ["O'Brien \\ co", "john"]),
    ("{Age}=0", ["O'Brien \\ co", "{x}", "john"]),
    ("{Done}=FALSE()", ["Jane", "O'Brien \\ co", "{x}", "john"]),
    ("AND(Age > 1e1, Age <= 3.5e1, -Age < -21.5)", ["Jane"]),
    ("IF(LEN(Name) = 4, UPPER(LEFT(Name, 2)) = 'JO', 0)", ["John", "john"]),
    ("{Due}=DATETIME_PARSE('2024-01-31')", ["Jane"]),
    ("IS_AFTER({Due}, DATETIME_PARSE('2024-01-01'))", ["Jane"]),
    ("AND(MOD(Age, 7) = 0, ROUND(Age / 2) = 18, MAX(Age, 1) > 1)", ["Jane"]),
    ('SUBSTITUTE(Notes, "abc", "x") & "!" = "x fan!"', ["Jane"]),
    ("ISERROR(1 / Age)", ["O'Brien \\ co", "{x}", "john"]),
    ("FIND('vip', {Tags})", ["John"]),
])
def test_formula_filters(crowd: Table, formula: Any, expected: list[str]) -> None:
    assert names(crowd.all(formula=formula)) == expected


def test_record_id_formula(crowd: Table) -> None:
    jane = crowd.first(formula=match({"Name": "Jane"}))
    assert names(crowd.all(formula=EQ(RECORD_ID(), jane["id"]))) == ["Jane"]


def test_created_time_formula_finds_the_records_created_since_a_moment(people: Table) -> None:
    from pyairtable.formulas import CREATED_TIME, DATETIME_PARSE, IS_AFTER

    people.create({"Name": "Before"})
    time.sleep(0.01)
    since = people.all()[0]["createdTime"]
    time.sleep(0.01)
    people.create({"Name": "After"})
    formula = IS_AFTER(CREATED_TIME(), DATETIME_PARSE(since))
    assert names(people.all(formula=formula)) == ["After"]


@pytest.mark.parametrize("formula", ["{Name}='x", "AND(", "{Nope}=1", "NOSUCHFN(1)", "1 +"])
def test_invalid_formulas_are_422(crowd: Table, formula: str) -> None:
    with pytest.raises(requests.HTTPError) as caught:
        crowd.all(formula=formula)
    assert caught.value.response.status_code == 422
    assert caught.value.response.json()["error"]["type"] == "INVALID_FILTER_BY_FORMULA"


# --- protocol details -----------------------------------------------------------------------

def test_malformed_json_and_unknown_routes(
        airtable_emulator: AirtableEmulator, people: Table) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    bad = requests.post(f"{airtable_emulator.url}/v0/{people.base.id}/People",
                        data="{nope", headers=headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["type"] == "INVALID_REQUEST_UNKNOWN"
    assert bad.headers["Content-Type"] == "application/json; charset=utf-8"
    missing = requests.get(f"{airtable_emulator.url}/v1/whatever", headers=headers)
    assert (missing.status_code, missing.json()) == (404, {"error": "NOT_FOUND"})


def test_rate_limit_returns_429_then_locks_the_base_out(
        airtable_emulator: AirtableEmulator, people: Table) -> None:
    airtable_emulator.rate_limit = 5
    airtable_emulator.lockout_seconds = 1.0
    clock = airtable_emulator.limiter.clock = ManualClock()  # every request at one instant
    table = Api(TOKEN, endpoint_url=airtable_emulator.url, retry_strategy=False).table(
        people.base.id, "People")

    statuses = []
    for _ in range(7):
        try:
            table.all()
            statuses.append(200)
        except requests.HTTPError as error:
            statuses.append(error.response.status_code)
            assert "Retry-After" not in error.response.headers
            assert json.loads(error.response.text) == {"error": {
                "type": "RATE_LIMIT_REACHED",
                "message": "Rate limit exceeded. Please try again later"}}

    assert statuses == [200] * 5 + [429, 429]
    Api(TOKEN, endpoint_url=airtable_emulator.url).whoami()  # meta calls are not limited
    clock.advance(0.9)  # within the lock-out (its window of accepted requests has passed)
    with pytest.raises(requests.HTTPError, match="429"):
        table.all()
    clock.advance(0.2)  # past the lock-out
    assert table.all() == []
    accepted = [e for e in airtable_emulator.requests_for(people.base.id) if e[4] == 200]
    assert len(accepted) == 6


def test_persistence_round_trip(tmp_path: Any) -> None:
    path = tmp_path / "airtable.json"
    first = AirtableEmulator(tokens={TOKEN: USER_ID}, rate_limit=None, persist_path=path).start()
    try:
        base_id = first.seed_demo()
        contacts = Api(TOKEN, endpoint_url=first.url).table(base_id, "Contacts")
        contacts.create({"Name": "Persisted Person", "Status": "Lead"})
    finally:
        first.stop()

    second = AirtableEmulator(tokens={TOKEN: USER_ID}, rate_limit=None, persist_path=path).start()
    try:
        api = Api(TOKEN, endpoint_url=second.url)
        assert second.seed_demo() == base_id
        record = api.table(base_id, "Contacts").first(formula=match({"Name": "Persisted Person"}))
        assert record is not None and record["fields"]["Status"] == "Lead"
        assert len(api.table(base_id, "Contacts").all()) == 13
    finally:
        second.stop()


def test_a_stopped_emulator_answers_no_one_not_even_a_kept_alive_connection() -> None:
    emulator = AirtableEmulator(tokens={TOKEN: USER_ID}, rate_limit=None).start()
    session = requests.Session()
    url = f"{emulator.url}/v0/meta/whoami"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        assert session.get(url, headers=headers, timeout=5).status_code == 200
    finally:
        emulator.stop()
    with pytest.raises(requests.ConnectionError):
        session.get(url, headers=headers, timeout=5)

"""Fault injection in the Airtable emulator: each fault does to a real client what it says."""

from __future__ import annotations

import pytest
import requests
from pyairtable import Api, Table

from local.airtable_emulator import AirtableEmulator
from tests.helpers import ManualClock

TOKEN = "patTEST"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def api(airtable_emulator: AirtableEmulator) -> Api:
    """pyairtable without its own retries, so every injected fault reaches the caller."""
    return Api(TOKEN, endpoint_url=airtable_emulator.url, retry_strategy=False)


@pytest.fixture
def people(airtable_emulator: AirtableEmulator, api: Api) -> Table:
    base_id = airtable_emulator.create_base(
        "Faults", [{"name": "People", "fields": [{"name": "Name", "type": "singleLineText"}]}])
    return api.table(base_id, "People")


def stored_names(emulator: AirtableEmulator, table: Table) -> list[str]:
    """Names in the emulator's store, read directly (no HTTP, so no fault applies)."""
    stored = emulator.store.table(table.base.id, "People")
    field_id = stored.field("Name").id
    return sorted(r.cells.get(field_id, "") for r in stored.records.values())


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_a_status_fault_answers_with_airtable_error_and_writes_nothing(
        airtable_emulator, people, status):
    airtable_emulator.faults.inject("status", status=status, count=2)
    for _ in range(2):
        with pytest.raises(requests.HTTPError) as refused:
            people.create({"Name": "Ada"})
        assert refused.value.response.status_code == status
        assert "error" in str(refused.value.response.json())
    assert stored_names(airtable_emulator, people) == []
    people.create({"Name": "Ada"})  # the count is used up
    assert stored_names(airtable_emulator, people) == ["Ada"]


def test_a_reset_before_the_write_loses_the_request(airtable_emulator, people):
    fault = airtable_emulator.faults.inject("reset_before", count=1)
    with pytest.raises(requests.ConnectionError):
        people.create({"Name": "Ada"})
    assert fault.injected == 1
    assert stored_names(airtable_emulator, people) == []
    assert airtable_emulator.requests_for(people.base.id)[-1][4] == 0  # logged as unanswered


def test_a_reset_after_the_write_keeps_the_write_the_client_never_saw(airtable_emulator, people):
    airtable_emulator.faults.inject("reset_after", count=1)
    with pytest.raises(requests.ConnectionError):
        people.batch_create([{"Name": "Ada"}, {"Name": "Bob"}])
    assert stored_names(airtable_emulator, people) == ["Ada", "Bob"]
    assert [r["fields"]["Name"] for r in people.all(sort=["Name"])] == ["Ada", "Bob"]


def test_a_slow_fault_applies_the_write_and_answers_late(airtable_emulator, people, api):
    airtable_emulator.faults.inject("slow", delay=2.0, count=1)
    impatient = Api(TOKEN, endpoint_url=airtable_emulator.url, retry_strategy=False,
                    timeout=(2, 0.3))
    with pytest.raises(requests.Timeout):
        impatient.table(people.base.id, "People").create({"Name": "Ada"})
    assert stored_names(airtable_emulator, people) == ["Ada"]


def test_faults_are_scoped_to_their_base(airtable_emulator, api, people):
    other_id = airtable_emulator.create_base(
        "Other", [{"name": "People", "fields": [{"name": "Name", "type": "singleLineText"}]}])
    airtable_emulator.faults.inject("status", status=503, base_id=other_id)
    people.create({"Name": "Ada"})
    with pytest.raises(requests.HTTPError):
        api.table(other_id, "People").create({"Name": "Bob"})


def test_writes_only_faults_let_reads_through(airtable_emulator, people):
    airtable_emulator.faults.inject("status", status=500, writes_only=True)
    assert people.all() == []
    with pytest.raises(requests.HTTPError):
        people.create({"Name": "Ada"})


def test_a_fault_for_a_duration_ends_by_itself(airtable_emulator, people):
    clock = airtable_emulator.faults.clock = ManualClock()
    airtable_emulator.faults.inject("status", status=429, seconds=0.5)
    with pytest.raises(requests.HTTPError):
        people.all()
    clock.advance(0.4)
    with pytest.raises(requests.HTTPError):
        people.all()
    clock.advance(0.2)
    assert people.all() == []
    assert airtable_emulator.faults.active() == []


def test_a_probability_strikes_some_requests_and_not_others(airtable_emulator, people):
    fault = airtable_emulator.faults.inject("status", status=500, probability=0.5)
    outcomes = []
    for _ in range(60):
        try:
            people.all()
            outcomes.append(True)
        except requests.HTTPError:
            outcomes.append(False)
    assert fault.injected == outcomes.count(False)
    assert True in outcomes and False in outcomes


def test_a_fault_for_one_method_lets_the_others_through(airtable_emulator, people):
    ada = people.create({"Name": "Ada"})
    fault = airtable_emulator.faults.inject("status", status=500, method="post", count=1)
    people.delete(ada["id"])
    with pytest.raises(requests.HTTPError):
        people.create({"Name": "Grace"})
    assert fault.injected == 1 and stored_names(airtable_emulator, people) == []


def test_the_control_endpoint_injects_lists_and_clears(airtable_emulator, people):
    url = f"{airtable_emulator.url}/_faults"
    added = requests.post(url, json={"kind": "status", "status": 502, "base_id": people.base.id,
                                     "count": 1}, timeout=5)
    assert added.status_code == 200 and added.json()["kind"] == "status"
    assert [f["id"] for f in requests.get(url, timeout=5).json()["faults"]] == [added.json()["id"]]
    refused = requests.post(f"{airtable_emulator.url}/v0/{people.base.id}/People",
                            json={"fields": {"Name": "Ada"}}, headers=AUTH, timeout=5)
    assert refused.status_code == 502
    requests.post(url, json={"kind": "reset_after"}, timeout=5)
    assert requests.delete(url, timeout=5).json() == {"faults": []}
    people.create({"Name": "Ada"})
    assert stored_names(airtable_emulator, people) == ["Ada"]


@pytest.mark.parametrize("body", [{"kind": "flood"}, {"kind": "status", "status": 418},
                                  {"kind": "slow"}, {"kind": "status", "status": 500, "count": 0},
                                  {"kind": "reset_after", "probability": 2},
                                  {"kind": "status", "colour": "red"}, ["status"]])
def test_the_control_endpoint_refuses_a_fault_it_cannot_inject(airtable_emulator, body):
    answer = requests.post(f"{airtable_emulator.url}/_faults", json=body, timeout=5)
    assert answer.status_code == 422
    assert answer.json()["error"]["type"] == "INVALID_FAULT"
    assert airtable_emulator.faults.active() == []

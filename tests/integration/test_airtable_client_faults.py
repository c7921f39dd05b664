"""The Airtable client against a failing Airtable: a read that meets a 5xx or a lost connection
is sent again; a write is never sent again by the client (its caller knows whether that is
safe), and the failure reaches the caller as `Unanswered`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from common.airtable.errors import Unanswered
from local.airtable_emulator import AirtableEmulator
from tests.integration.test_airtable_hardening import _clear_caches

TOKEN = "patCLIENTFAULTS00.secretpart"


@pytest.fixture
def emulator(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AirtableEmulator]:
    from tests.integration.test_airtable_hardening import _ENV

    emulator = AirtableEmulator(tokens={TOKEN: "usrCLIENTFAULTS01"}, rate_limit=None).start()
    for name, value in {**_ENV, "DATABASE_URL": database_url,
                        "AIRTABLE_ENDPOINT_URL": emulator.url}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    _clear_caches()
    try:
        yield emulator
    finally:
        emulator.stop()
        _clear_caches()


@pytest.fixture
def people(emulator: AirtableEmulator):
    from common.airtable.client import airtable_api

    base_id = emulator.create_base(
        "Faults", [{"name": "People", "fields": [{"name": "Name", "type": "singleLineText"}]}])
    return airtable_api(TOKEN).table(base_id, "People")


@pytest.mark.parametrize("kind, status", [("status", 500), ("status", 502), ("status", 503),
                                          ("reset_before", None), ("reset_after", None)])
def test_a_read_that_fails_transiently_is_sent_again(emulator, people, kind, status):
    people.create({"Name": "Ada"})
    fault = emulator.faults.inject(kind, status=status, count=2)
    assert [r["fields"]["Name"] for r in people.all()] == ["Ada"]
    assert fault.injected == 2


def test_a_read_that_keeps_failing_reaches_the_caller_as_unanswered(emulator, people):
    emulator.faults.inject("status", status=503)
    with pytest.raises(Unanswered):
        people.all()


def test_a_write_is_never_sent_again_by_the_client(emulator, people):
    fault = emulator.faults.inject("reset_after", writes_only=True, count=1)
    with pytest.raises(Unanswered):
        people.create({"Name": "Ada"})
    assert fault.injected == 1
    assert [r["fields"]["Name"] for r in people.all()] == ["Ada"]  # written once, answer lost


def _names(emulator: AirtableEmulator, base_id: str) -> list[str]:
    table = emulator.store.table(base_id, "People")
    field_id = table.field("Name").id
    return sorted(r.cells.get(field_id, "") for r in table.records.values())


def test_a_create_whose_answer_was_lost_keeps_what_airtable_wrote_once(emulator, people):
    from common.airtable import records
    from common.airtable.connections import Access

    rows = [{"fields": {"Name": f"Row {n:02}"}} for n in range(25)]
    fault = emulator.faults.inject("reset_after", writes_only=True, count=2)
    made = records.create(Access("test", lambda: TOKEN), people.base.id, "People", rows, False)
    assert fault.injected == 2
    assert sorted(r["fields"]["Name"] for r in made) == [f"Row {n:02}" for n in range(25)]
    assert _names(emulator, people.base.id) == [f"Row {n:02}" for n in range(25)]
    assert len({r["id"] for r in made}) == 25


def test_a_create_meeting_5xx_and_lost_answers_writes_each_row_once(emulator, people):
    from common.airtable import records
    from common.airtable.connections import Access

    rows = [{"fields": {"Name": f"Row {n:02}"}} for n in range(25)]
    # Chunk 0 is written with its answer lost; chunk 1 is refused, then written with its
    # answer lost when sent again.
    faults = [emulator.faults.inject("reset_after", writes_only=True, count=1),
              emulator.faults.inject("status", status=503, writes_only=True, count=1),
              emulator.faults.inject("reset_after", writes_only=True, count=1)]
    made = records.create(Access("test", lambda: TOKEN), people.base.id, "People", rows, False)
    assert [f.injected for f in faults] == [1, 1, 1]
    assert len({r["id"] for r in made}) == 25
    assert _names(emulator, people.base.id) == [f"Row {n:02}" for n in range(25)]


def test_a_create_that_fails_leaves_nothing_even_when_answers_were_lost(emulator, people):
    from common.airtable import records
    from common.airtable.connections import Access
    from common.core.errors import ValidationFailed

    rows = [{"fields": {"Name": f"Row {n:02}"}} for n in range(25)]
    rows[22] = {"fields": {"Name": "Row 22", "Nope": 1}}  # Airtable refuses the third chunk
    # The first two chunks are written with their answers lost (the second after a 502), and
    # the refusal of the third is lost once too: what was written is deleted again.
    faults = [emulator.faults.inject("reset_after", writes_only=True, count=1),
              emulator.faults.inject("status", status=502, writes_only=True, count=1),
              emulator.faults.inject("reset_after", writes_only=True, count=1),
              emulator.faults.inject("reset_after", writes_only=True, count=1)]
    with pytest.raises(ValidationFailed):
        records.create(Access("test", lambda: TOKEN), people.base.id, "People", rows, False)
    assert [f.injected for f in faults] == [1, 1, 1, 1]
    assert _names(emulator, people.base.id) == []

"""The emulator's webhooks API, driven by unmodified pyairtable as against Airtable."""

from __future__ import annotations

from pyairtable import Api

from tests.integration.conftest import EMULATOR_TOKEN


def _base(emulator):
    base_id = emulator.create_base("Hooks", tables=[
        {"name": "People", "fields": [{"name": "Name", "type": "singleLineText"},
                                      {"name": "Age", "type": "number",
                                       "options": {"precision": 0}}]},
        {"name": "Other", "fields": [{"name": "Name", "type": "singleLineText"}]}])
    api = Api(EMULATOR_TOKEN, endpoint_url=emulator.url)
    return api, api.base(base_id)


def _spec(table_id):
    return {"options": {"filters": {"dataTypes": ["tableData"], "recordChangeScope": table_id},
                        "includes": {"includeCellValuesInFieldIds": "all"}}}


def test_record_writes_become_payloads_read_with_a_cursor(airtable_emulator):
    _api, base = _base(airtable_emulator)
    people = base.table("People")
    table_id = base.schema().table("People").id
    name_id = base.schema().table("People").field("Name").id
    created = base.add_webhook(None, _spec(table_id))
    assert created.mac_secret_base64 and created.expiration_time is not None

    ada = people.create({"Name": "Ada", "Age": 36})
    people.update(ada["id"], {"Age": 37})
    people.delete(ada["id"])
    base.table("Other").create({"Name": "not watched"})

    hook = base.webhook(created.id)
    payloads = list(hook.payloads())
    assert [p.cursor for p in payloads] == [1, 2, 3]
    first, second, third = (p.changed_tables_by_id[table_id] for p in payloads)
    assert first.created_records_by_id[ada["id"]].cell_values_by_field_id[name_id] == "Ada"
    assert list(second.changed_records_by_id) == [ada["id"]]
    assert third.destroyed_record_ids == [ada["id"]]
    # Reading from a cursor returns that payload and the later ones only.
    assert [p.cursor for p in hook.payloads(cursor=3)] == [3]
    assert base.webhook(created.id).cursor_for_next_payload == 4


def test_webhooks_are_refreshed_and_deleted(airtable_emulator):
    _api, base = _base(airtable_emulator)
    created = base.add_webhook(None, _spec(base.schema().table("People").id))
    hook = base.webhook(created.id)
    hook.extend_expiration()
    assert hook.expiration_time is not None
    hook.delete()
    assert base.webhooks() == []


def test_a_webhook_needs_a_specification_with_data_types(airtable_emulator):
    import pytest
    from requests import HTTPError

    api, base = _base(airtable_emulator)
    with pytest.raises(HTTPError) as error:
        api.post(base.urls.webhooks, json={"specification": {"options": {"filters": {}}}})
    assert error.value.response.status_code == 422

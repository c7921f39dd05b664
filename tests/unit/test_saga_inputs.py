"""Saga inputs and the dry run's field checks (pure logic, no Airtable)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from common.airtable.fresh_schema import parse
from common.sagas.dry_run import _field_problem, _problems
from common.sagas.schemas import DryRunProblemOut, TransactionInput

BASE = "appAAAAAAAAAAAAAA"
SCHEMA = parse({"tables": [{"id": "tblAAAAAAAAAAAAAA", "name": "Contacts", "fields": [
    {"id": "fldName0000000000", "name": "Name", "type": "singleLineText"},
    {"id": "fldScore000000000", "name": "Score", "type": "number"},
    {"id": "fldDone0000000000", "name": "Done", "type": "checkbox"},
    {"id": "fldStage000000000", "name": "Stage", "type": "singleSelect",
     "options": {"choices": [{"name": "Lead"}, {"name": "Customer"}]}},
    {"id": "fldTags0000000000", "name": "Tags", "type": "multipleSelects",
     "options": {"choices": [{"name": "Red"}, {"name": "Blue"}]}},
    {"id": "fldWhen0000000000", "name": "When", "type": "date"},
    {"id": "fldAt000000000000", "name": "At", "type": "dateTime"},
    {"id": "fldLinks000000000", "name": "Links", "type": "multipleRecordLinks"},
    {"id": "fldTotal000000000", "name": "Total", "type": "formula"}]}]})
TABLE = SCHEMA.table("Contacts")


def _input(*operations: dict) -> TransactionInput:
    return TransactionInput.model_validate({"base_id": BASE, "operations": list(operations)})


@pytest.mark.parametrize("operation", [
    {"action": "delete", "table": "T", "records": [{"fields": {"Name": "x"}}]},
    {"action": "update", "table": "T", "records": [{"fields": {"Name": "x"}}]},
    {"action": "create", "table": "T", "records": [{"id": "recAAAAAAAAAAAAAA",
                                                    "fields": {"Name": "x"}}]},
    {"action": "upsert", "table": "T", "records": [{"fields": {"Name": "x"}}]},
    {"action": "create", "table": "T", "merge_on": ["Name"], "records": [{"fields": {}}]},
    {"action": "create", "table": "T", "records": []},
])
def test_malformed_operations_are_refused(operation):
    with pytest.raises(ValidationError):
        _input(operation)


def test_well_formed_operations_are_accepted():
    body = _input(
        {"action": "create", "table": "T", "records": [{"fields": {"Name": "x"}}]},
        {"action": "update", "table": "T", "records": [{"id": "recAAAAAAAAAAAAAA",
                                                        "fields": {"Name": "y"}}]},
        {"action": "upsert", "table": "T", "merge_on": ["Name"],
         "records": [{"fields": {"Name": "z"}}]},
        {"action": "delete", "table": "T", "records": [{"id": "recAAAAAAAAAAAAAA"}]})
    assert [op.action for op in body.operations] == ["create", "update", "upsert", "delete"]


def test_a_transaction_is_limited_to_5000_records():
    with pytest.raises(ValidationError):
        _input({"action": "create", "table": "T",
                "records": [{"fields": {"Name": str(n)}} for n in range(5001)]})


@pytest.mark.parametrize(("field", "value", "code", "problem"), [
    ("Nmae", "x", "unknown_field", "unknown field"),
    ("Name", 3, "not_a_string", "singleLineText takes a string"),
    ("Score", "ten", "not_a_number", "number takes a number"),
    ("Score", True, "not_a_number", "number takes a number"),
    ("Done", "yes", "not_a_boolean", "checkbox takes true or false"),
    ("Stage", 3, "not_a_string", "singleSelect takes a string"),
    ("Stage", "Partner", "not_a_choice",
     "not a choice of this field: ['Partner'] (use typecast to add)"),
    ("Tags", "Red", "not_a_list_of_strings", "multipleSelects takes a list of strings"),
    ("Tags", ["Red", "Teal"], "not_a_choice",
     "not a choice of this field: ['Teal'] (use typecast to add)"),
    ("When", "26/11/2026", "not_a_date", "date takes an ISO 8601 date"),
    ("At", "yesterday", "not_a_timestamp", "dateTime takes an ISO 8601 timestamp"),
    ("Links", ["nope"], "not_record_ids", "multipleRecordLinks takes a list of record ids"),
    ("Total", 1, "computed_field",
     "formula fields are computed by Airtable and cannot be written"),
])
def test_dry_run_names_the_problem_of_a_value(field, value, code, problem):
    assert _field_problem(TABLE, field, value, typecast=False) == {"code": code,
                                                                   "problem": problem}


@pytest.mark.parametrize(("field", "value"), [
    ("Name", "Ada"), ("fldScore000000000", 3), ("Score", 2.5), ("Done", False),
    ("Stage", "Lead"), ("When", "2026-11-26"), ("Links", ["recAAAAAAAAAAAAAA"]),
    ("Name", None),
])
def test_dry_run_accepts_values_airtable_accepts(field, value):
    assert _field_problem(TABLE, field, value, typecast=False) is None


def test_typecast_lets_airtable_convert_values():
    assert _field_problem(TABLE, "Stage", "Partner", typecast=True) is None
    assert _field_problem(TABLE, "Total", 1, typecast=True) is not None


def test_dry_run_gives_every_problem_of_an_operation_a_code():
    unknown = _problems(None, BASE, SCHEMA, {"action": "create", "table": "Leads",
                                             "records": [{"fields": {"Name": "x"}}]}, set())
    assert unknown == [{"code": "unknown_table", "problem": "unknown table 'Leads'"}]
    upsert = _problems(None, BASE, SCHEMA, {
        "action": "upsert", "table": "Contacts", "merge_on": ["Mail", "Name"],
        "records": [{"fields": {"Score": 1}}]}, set())
    assert upsert == [
        {"field": "Mail", "code": "unknown_merge_on_field", "problem": "unknown merge_on field"},
        {"record": 0, "field": "Mail", "code": "merge_on_value_missing",
         "problem": "merge_on field has no value"},
        {"record": 0, "field": "Name", "code": "merge_on_value_missing",
         "problem": "merge_on field has no value"}]
    assert all(DryRunProblemOut.model_validate(p).code for p in unknown + upsert)

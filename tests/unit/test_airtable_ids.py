"""Airtable ids are checked before any work: prefix plus 14 letters or digits."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from common.airtable import ids
from common.core.errors import ValidationFailed


class Address(BaseModel):
    base_id: ids.BaseId
    table: ids.TableRef
    record_id: ids.RecordId | None = None


def test_a_well_formed_base_id_and_a_table_name_pass() -> None:
    address = Address(base_id="appABCDEFGHIJ1234", table="Contacts & People")
    assert address.table == "Contacts & People"


@pytest.mark.parametrize("base_id", [
    "appABCDEFGHIJ123",            # 13 characters after the prefix
    "appABCDEFGHIJ12345",          # 15
    "tblABCDEFGHIJ1234",           # another kind's prefix
    "app" + "A" * 40,              # longer than the limiter's column
    "appABCDEFGHIJ12-4",           # not alphanumeric
])
def test_a_malformed_base_id_is_rejected(base_id: str) -> None:
    with pytest.raises(ValidationError):
        Address(base_id=base_id, table="t")


def test_a_table_is_an_id_or_a_name_of_at_most_255_characters() -> None:
    assert Address(base_id="appABCDEFGHIJ1234", table="tblABCDEFGHIJ1234").table
    assert Address(base_id="appABCDEFGHIJ1234", table="tbl1").table == "tbl1"  # a name
    for bad in ["", "x" * 256, "a\nb"]:
        with pytest.raises(ValidationError):
            Address(base_id="appABCDEFGHIJ1234", table=bad)


def test_a_record_id_needs_the_rec_prefix() -> None:
    with pytest.raises(ValidationError):
        Address(base_id="appABCDEFGHIJ1234", table="t", record_id="recshort")


def test_require_names_the_field_in_a_validation_error() -> None:
    assert ids.require("field", "fldABCDEFGHIJ1234", "field_id") == "fldABCDEFGHIJ1234"
    with pytest.raises(ValidationFailed) as caught:
        ids.require("view", "viwX", "view")
    assert caught.value.details == [{"field": "view",
                                     "problem": "expected viw followed by 14 letters or digits"}]


def test_record_ids_split_commas_and_point_at_each_bad_one() -> None:
    assert ids.record_ids(["recABCDEFGHIJ1234,recABCDEFGHIJ5678"]) == [
        "recABCDEFGHIJ1234", "recABCDEFGHIJ5678"]
    with pytest.raises(ValidationFailed) as caught:
        ids.record_ids(["recABCDEFGHIJ1234", "nope"])
    assert [d["field"] for d in caught.value.details or []] == ["ids[1]"]
    with pytest.raises(ValidationFailed):
        ids.record_ids([""])

"""Record write bodies refuse what Airtable would answer with an error, before any call."""

import pytest
from pydantic import ValidationError

from common.airtable.schemas import RecordsUpdate


def test_an_upsert_merges_on_named_fields_only():
    with pytest.raises(ValidationError):
        RecordsUpdate.model_validate({"records": [{"fields": {"Name": "Ada"}}], "merge_on": [""]})
    body = RecordsUpdate.model_validate({"records": [{"fields": {"Name": "Ada"}}],
                                         "merge_on": ["Name"]})
    assert body.merge_on == ["Name"]


def test_an_upsert_refuses_a_record_without_a_merge_field():
    with pytest.raises(ValidationError) as refused:
        RecordsUpdate.model_validate({"records": [{"fields": {"Name": "Ada"}}, {"fields": {}}],
                                      "merge_on": ["Name"]})
    assert [e["loc"] for e in refused.value.errors()] == [("records", 1, "fields", "Name")]

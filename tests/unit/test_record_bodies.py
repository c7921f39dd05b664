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

"""The sagas API's response models write exactly the JSON the log's view and the services'
dicts always wrote: the same keys in the same order, optional ones only when set."""

import json

from common.files.schemas import ImportPreviewOut
from common.sagas.saga_log import Kind
from common.sagas.schemas import DryRunOut, SagaOut
from tests.unit.test_saga_log import Log


def _same(model, data) -> None:
    assert json.dumps(model.model_validate(data).model_dump(mode="json")) == json.dumps(data)


def test_a_saga_with_retries_a_failed_step_and_its_compensation_reads_back_unchanged():
    log = (Log().add("step/0/started", Kind.STEP_STARTED, 0)
           .started(0, 0).failed(0, 0).started(0, 0, attempt=1).applied(0, 0, created=["recA"])
           .add("step/0/succeeded", Kind.STEP_SUCCEEDED, 0, output={"created": ["recA"]})
           .add("step/1/started", Kind.STEP_STARTED, 1)
           .started(1, 0).failed(1, 0, transient=False)
           .add("step/1/failed", Kind.STEP_FAILED, 1, error="Airtable rejected the request")
           .add("compensation/x", Kind.COMPENSATION_STARTED, reason="failure", execution="x")
           .add("undo/0/0/failed/0", Kind.UNDO_FAILED, 0, 0, attempt=1, error="503")
           .add("undo/0/0/done", Kind.UNDO_CHUNK_DONE, 0, 0, deleted=["recA"])
           .add("finished/failed/0", Kind.SAGA_FINISHED, status="failed",
                left_to_undo=[{"step": 0, "chunk": 0, "action": "create",
                               "table": "Contacts", "records": ["recA"]}]))
    row = {"id": "s1", "type": "airtable_transaction", "workspace_id": "w1",
           "summary": "create 15 Contacts", "status": "failed", "created_by": None,
           "input": {"base_id": "app", "operations": []}, "created_at": "2026-01-01T12:00:00",
           "updated_at": "2026-01-01T12:00:09", "finished_at": None,
           "error": {"message": "Some applied changes could not be undone."}}
    data = row | log.log().view(["create Contacts", "update Deals"], "failed")
    _same(SagaOut, data)
    listed = {k: v for k, v in data.items() if k != "input"}
    _same(SagaOut, listed)
    assert "output" not in SagaOut.model_validate(listed).model_dump(mode="json")


def test_a_running_saga_writes_no_optional_key():
    data = {"id": "s2", "type": "user_onboarding", "workspace_id": "w1", "summary": "set up",
            "status": "running", "created_by": "u1", "input": {"user_id": "u1"},
            "created_at": "2026-01-01T12:00:00+00:00", "updated_at": None, "finished_at": None,
            **Log().log().view(["preferences"], "running")}
    _same(SagaOut, data)
    assert list(data["steps"][0]) == ["index", "name", "status", "started_at", "finished_at"]


def test_dry_run_and_import_preview_problems_keep_their_own_keys():
    _same(DryRunOut, {"valid": False, "operations": [
        {"action": "update", "table": "Contacts", "records": 2, "problems": [
            {"record": 0, "field": "Nme", "code": "unknown_field", "problem": "unknown field"},
            {"record": 1, "id": "recX", "code": "no_such_record",
             "problem": "no such record in this table"},
            {"field": "Key", "code": "unknown_merge_on_field", "problem": "unknown merge_on field"},
            {"code": "unknown_table", "problem": "unknown table 'X'"}]}]})
    _same(ImportPreviewOut, {
        "table": "People", "columns": [{"column": "Name", "field": "Name",
                                        "field_type": "singleLineText", "sample": ["A", 1]}],
        "ignored_columns": [], "rows_total": 2, "preview": [
            {"row": 1, "fields": {"Name": "A"}, "problems": []},
            {"row": 2, "fields": {}, "problems": [
                {"column": "Score", "field": "Score", "message": "not a number"},
                {"column": None, "message": "The row has no values"}]}],
        "problems_total": 1, "sheets": ["Sheet1"]})

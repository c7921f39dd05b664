"""Request bodies, saga inputs (their JSON Schemas are what GET /api/sagas/types shows) and the
API's response models."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    WithJsonSchema,
    model_validator,
)

from common.core.schemas import Sparse

RECORD_ID = r"^rec[A-Za-z0-9]{14}$"
BASE_ID = r"^app[A-Za-z0-9]{14}$"
# A transaction's whole size: 10 MB bodies aside, 5,000 records take ~17 minutes at 5 req/s.
MAX_RECORDS = 5000


class RecordInput(BaseModel):
    id: str | None = Field(None, pattern=RECORD_ID)
    fields: dict[str, Any] | None = None


class Operation(BaseModel):
    action: Literal["create", "update", "upsert", "delete"]
    table: str = Field(min_length=1, max_length=255, description="table id or name")
    records: list[RecordInput] = Field(min_length=1)
    merge_on: list[str] | None = Field(None, min_length=1, max_length=3)
    typecast: bool = False

    @model_validator(mode="after")
    def _shape(self) -> Operation:
        problems = []
        for n, record in enumerate(self.records):
            if self.action == "delete" and (not record.id or record.fields):
                problems.append(f"records[{n}]: delete takes an id and no fields")
            if self.action == "update" and (not record.id or record.fields is None):
                problems.append(f"records[{n}]: update takes an id and fields")
            if self.action in ("create", "upsert") and record.fields is None:
                problems.append(f"records[{n}]: {self.action} takes fields")
            if self.action == "create" and record.id:
                problems.append(f"records[{n}]: create takes no id")
        if self.action == "upsert" and not self.merge_on:
            problems.append("upsert needs merge_on")
        if self.action != "upsert" and self.merge_on:
            problems.append("merge_on is only for upsert")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class TransactionInput(BaseModel):
    """Operations on tables of one base, applied in order, all or nothing."""

    base_id: str = Field(pattern=BASE_ID)
    operations: list[Operation] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _size(self) -> TransactionInput:
        if sum(len(op.records) for op in self.operations) > MAX_RECORDS:
            raise ValueError(f"at most {MAX_RECORDS} records per transaction")
        return self


class OnboardingInput(BaseModel):
    """A new user's set-up: default preferences, a sample table, a welcome notification."""

    user_id: str = Field(min_length=1, max_length=32)


class IntegrationInput(BaseModel):
    """Connect a base: verify access, read its schema, snapshot its records, notify."""

    base_id: str = Field(pattern=BASE_ID)
    tables: list[str] | None = Field(None, min_length=1, max_length=50,
                                     description="table ids or names (default: every table)")


INPUTS: dict[str, type[BaseModel]] = {"airtable_transaction": TransactionInput,
                                      "user_onboarding": OnboardingInput,
                                      "airtable_integration": IntegrationInput}


class StartSaga(BaseModel):
    type: Literal["airtable_transaction", "user_onboarding", "airtable_integration"]
    input: dict[str, Any]
    workspace_id: str | None = Field(None, max_length=32)
    dry_run: bool = False


class UndoSaga(BaseModel):
    force: bool = False


# ------------------------------------------------------------------ responses
# A time as these APIs have always written it (`isoformat` of the stored value).
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


class SagaTypeOut(BaseModel):
    """A saga type a user starts, with the JSON Schema of its input."""

    type: str
    input_schema: dict[str, Any]


class SagaStartedOut(BaseModel):
    """A saga started: its id, running."""

    saga_id: str
    status: str


class DryRunProblemOut(Sparse):
    """What a dry run found wrong (`record` is the record's index in its operation).

    `code` is stable and what clients match on; `problem` is its English text, which may be
    reworded (the codes are listed in `common.sagas.dry_run.check`).
    """

    record: int | None = None
    field: str | None = None
    id: str | None = None
    code: str = Field(description=(
        "Stable snake_case code: unknown_table, unknown_merge_on_field, unknown_field, "
        "computed_field, not_a_string, not_a_number, not_a_boolean, not_a_list_of_strings, "
        "not_a_choice, not_record_ids, not_a_date, not_a_timestamp, merge_on_value_missing, "
        "no_such_record"))
    problem: str


class DryRunOperationOut(BaseModel):
    """One operation as the dry run checked it."""

    action: str
    table: str
    records: int
    problems: list[DryRunProblemOut]


class DryRunOut(BaseModel):
    """A transaction checked against the base's schema and records, nothing written."""

    valid: bool
    operations: list[DryRunOperationOut]


class CompensationAttemptOut(BaseModel):
    """A failed attempt at undoing a step."""

    attempt: int | None
    error: str | None
    at: Timestamp | None


class CompensationOut(Sparse):
    """How a step's compensation stands (once the saga compensates)."""

    status: str
    finished_at: Timestamp | None = None
    output: dict[str, Any] | None = None
    attempts: list[CompensationAttemptOut] | None = None


class StepOut(Sparse):
    """A step as the saga's log tells it."""

    index: int
    name: str
    status: str
    started_at: Timestamp | None
    finished_at: Timestamp | None
    output: dict[str, Any] | None = None
    error: str | None = None
    chunks_applied: int | None = None
    retried: list[str | None] | None = None
    compensation: CompensationOut | None = None


class SagaOut(Sparse):
    """A saga: its row's fields, then its steps; lists leave out `input` (GET
    /api/sagas/{saga_id} has it)."""

    id: str
    type: str
    workspace_id: str
    summary: str
    status: str
    created_by: str | None
    input: dict[str, Any] | None = None
    created_at: Timestamp | None
    updated_at: Timestamp | None
    finished_at: Timestamp | None
    output: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    steps: list[StepOut]
    left_to_undo: list[dict[str, Any]] | None = None
    compensation_reason: str | None = None

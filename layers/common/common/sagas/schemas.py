"""Request bodies and saga inputs (their JSON Schemas are what GET /api/sagas/types shows)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

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

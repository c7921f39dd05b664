"""Workflow definitions: one pydantic model per step type, triggers, and template checks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from common.workflows.schedules import Schedule
from common.workflows.templates import TEMPLATE, TemplateError, references

MAX_STEPS = 50
StepId = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")]
# A config value that is either the typed value or a template producing it at run time.
Templated = Annotated[str, Field(pattern=r"\{\{.*\}\}", min_length=5, max_length=10_000)]
Text = Annotated[str, Field(min_length=1, max_length=10_000)]


class Config(BaseModel):
    """Step configs refuse unknown keys: a misspelt option would otherwise do nothing."""

    model_config = ConfigDict(extra="forbid")


class RecordIn(BaseModel):
    """A record to write: `{fields}`, with `id` for updates."""

    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    fields: dict[str, Any] | Templated


class ListRecordsConfig(Config):
    base_id: Text
    table: Text
    view: str | None = None
    filter: dict[str, Any] | None = None
    formula: str | None = Field(None, max_length=10_000)
    fields: list[str] | None = None
    max_records: int = Field(1000, ge=1, le=10_000)

    @model_validator(mode="after")
    def _filter_or_formula(self) -> ListRecordsConfig:
        if self.filter is not None and self.formula is not None:
            raise ValueError("use either filter or formula, not both")
        if self.formula is not None and TEMPLATE.search(self.formula):
            # A value pasted into formula text could become formula syntax.
            raise ValueError("formula cannot contain templates: put templated values in "
                             "filter ({\"<field>\": \"{{ ... }}\"}), which quotes them")
        return self


class WriteRecordsConfig(Config):
    base_id: Text
    table: Text
    records: list[RecordIn] | Templated
    typecast: bool = False


class UpsertRecordsConfig(WriteRecordsConfig):
    merge_on: list[str] = Field(min_length=1, max_length=3)


class DeleteRecordsConfig(Config):
    base_id: Text
    table: Text
    ids: list[str] | Templated


class TransformConfig(Config):
    items: list[Any] | Templated
    fields: dict[str, Any] = Field(min_length=1)


class ConditionConfig(Config):
    left: Any = None
    op: Literal["eq", "ne", "gt", "lt", "contains", "empty"]
    right: Any = None


class DelayConfig(Config):
    # A Step Functions Wait; 30 days at most keeps one execution well inside a year.
    seconds: int = Field(ge=1, le=30 * 86400)


class NotifyConfig(Config):
    title: Text
    body: str = Field("", max_length=10_000)


class SecretHeader(BaseModel):
    """A header value stored encrypted and shown masked (`{"secret": "..."}`)."""

    model_config = ConfigDict(extra="forbid")
    secret: str = Field(min_length=1, max_length=8192)


class HttpRequestConfig(Config):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    url: Text
    headers: dict[str, str | SecretHeader] = Field(default_factory=dict)
    body: Any = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not TEMPLATE.search(url) and not url.lower().startswith(("http://", "https://")):
            raise ValueError("url must be http:// or https://")
        return url


class FilesExportConfig(Config):
    base_id: Text
    table: Text
    view: str | None = None
    fields: list[str] | None = None
    format: Literal["csv", "json"] = "csv"


class FilesImportConfig(Config):
    file_id: Text
    base_id: Text
    table: Text
    mapping: dict[str, str] | None = None
    typecast: bool = False
    merge_on: list[str] | None = None


class StepBase(BaseModel):
    """What every step has: an id later steps refer to, and what a failure does."""

    id: StepId
    on_error: Literal["fail", "continue"] = "fail"


class ListRecordsStep(StepBase):
    type: Literal["airtable.list_records"]
    config: ListRecordsConfig


class CreateRecordsStep(StepBase):
    type: Literal["airtable.create_records"]
    config: WriteRecordsConfig


class UpdateRecordsStep(StepBase):
    type: Literal["airtable.update_records"]
    config: WriteRecordsConfig


class UpsertRecordsStep(StepBase):
    type: Literal["airtable.upsert_records"]
    config: UpsertRecordsConfig


class DeleteRecordsStep(StepBase):
    type: Literal["airtable.delete_records"]
    config: DeleteRecordsConfig


class TransformStep(StepBase):
    type: Literal["transform"]
    config: TransformConfig


class ConditionStep(StepBase):
    type: Literal["condition"]
    config: ConditionConfig


class DelayStep(StepBase):
    type: Literal["delay"]
    config: DelayConfig


class NotifyStep(StepBase):
    type: Literal["notify"]
    config: NotifyConfig


class HttpRequestStep(StepBase):
    type: Literal["http_request"]
    config: HttpRequestConfig


class FilesExportStep(StepBase):
    type: Literal["files.export"]
    config: FilesExportConfig


class FilesImportStep(StepBase):
    type: Literal["files.import"]
    config: FilesImportConfig


Step = Annotated[
    ListRecordsStep | CreateRecordsStep | UpdateRecordsStep | UpsertRecordsStep
    | DeleteRecordsStep | TransformStep | ConditionStep | DelayStep | NotifyStep
    | HttpRequestStep | FilesExportStep | FilesImportStep,
    Field(discriminator="type")]
STEP_TYPES = ("airtable.list_records", "airtable.create_records", "airtable.update_records",
              "airtable.upsert_records", "airtable.delete_records", "transform", "condition",
              "delay", "notify", "http_request", "files.export", "files.import")
ChangeType = Literal["created", "updated", "deleted"]


class Trigger(BaseModel):
    """What starts a workflow, with the options of its type."""

    type: Literal["manual", "schedule", "webhook", "file_upload", "airtable_change"]
    schedule: str | None = Field(None, max_length=256, description="rate(...) or cron(...)")
    # airtable_change: the table watched and which changes count.
    base_id: str | None = None
    table: str | None = None
    changes: list[ChangeType] = Field(default_factory=lambda: ["created", "updated", "deleted"],
                                      min_length=1)
    # file_upload: only files whose name ends with one of these (any file when empty).
    filename_suffixes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _options_of_type(self) -> Trigger:
        if self.type == "schedule":
            if not self.schedule:
                raise ValueError("a schedule trigger needs `schedule`: rate(...) or cron(...)")
            try:
                Schedule.parse(self.schedule).next_after(datetime.now(UTC))
            except (ValueError, OverflowError) as e:
                raise ValueError(f"invalid schedule: {e}") from e
        if self.type == "airtable_change" and not (self.base_id and self.table):
            raise ValueError("an airtable_change trigger needs `base_id` and `table`")
        return self


class WorkflowIn(BaseModel):
    """POST / and PUT /{id}: a whole definition."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=10_000)
    trigger: Trigger
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)
    enabled: bool = True
    workspace_id: str | None = None

    @model_validator(mode="after")
    def _ids_and_templates(self) -> WorkflowIn:
        check_steps(self.steps)
        return self


class WorkflowPatch(BaseModel):
    """PATCH /{id}: any of the fields; the result is validated as a whole."""

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    trigger: Trigger | None = None
    steps: list[Step] | None = Field(None, min_length=1, max_length=MAX_STEPS)
    enabled: bool | None = None


class ExecuteIn(BaseModel):
    """POST /{id}/execute."""

    input: dict[str, Any] = Field(default_factory=dict)


def check_steps(steps: list[Any]) -> None:
    """Unique ids, and every template refers to the input or to an earlier step."""
    seen: list[str] = []
    for position, step in enumerate(steps):
        if step.id in seen:
            raise ValueError(f"steps[{position}]: duplicate step id {step.id!r}")
        config = step.config.model_dump(exclude_none=True)
        for where, path in _paths(step.type, config, position):
            problem = _reference_problem(path, seen, item_allowed=(
                step.type == "transform" and where.startswith("fields")))
            if problem:
                raise ValueError(f"steps[{position}].config.{where}: {problem}")
        seen.append(step.id)


def _paths(step_type: str, config: dict[str, Any],
           position: int) -> list[tuple[str, list[str | int]]]:
    try:
        return list(references(config))
    except TemplateError as e:
        raise ValueError(f"steps[{position}].config: {e}") from e


def _reference_problem(path: list[str | int], earlier: list[str], item_allowed: bool) -> str:
    root = path[0]
    if root == "input":
        return ""
    if root == "item":
        return "" if item_allowed else "`item` exists only in a transform's fields"
    if root == "steps":
        if len(path) < 2:
            return "name a step: {{ steps.<step id>... }}"
        if path[1] not in earlier:
            return f"refers to step {path[1]!r}, which is not an earlier step"
        return ""
    return f"a template starts with input, steps or item, not {root!r}"

"""What each step type does, given its config with the templates already resolved."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from common.airtable import connections, formulas, records
from common.core import outbound
from common.core.db import UnitOfWork
from common.core.errors import AppError, Forbidden, NotFound
from common.core.identity import Identity
from common.core.models import AirtableConnection, StoredFile
from common.core.tasks import is_transient
from common.files import jobs
from common.files.commands import ImportFile
from common.files.schemas import ExportIn, ImportIn
from common.workflows import secret_headers
from common.workflows.templates import TemplateError, render


class StepError(Exception):
    """A step failed for a reason its `on_error` decides about (bad data, refused call...)."""

    def __init__(self, message: str, code: str = "step_error") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class TransientStepError(StepError):
    """A failure worth retrying (Airtable's rate limit, an unreachable upstream)."""


@dataclass
class StepContext:
    """Who and what a step runs for, and the template context of earlier outputs."""

    workflow_id: str
    workflow_name: str
    execution_id: str
    workspace_id: str
    run_as: str | None
    owner_id: str | None
    position: int
    data: dict[str, Any]
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def execute(step_type: str, config: dict[str, Any], ctx: StepContext) -> Any:
    """Run one step; raises StepError (or TransientStepError) on failure."""
    try:
        return EXECUTORS[step_type](config, ctx)
    except StepError:
        raise
    except TemplateError as e:
        raise StepError(str(e), "template_error") from e
    except AppError as e:
        # A 429 or an unreachable Airtable is worth a retry; a token Airtable refuses is not.
        raise (TransientStepError if is_transient(e) else StepError)(e.message, e.code) from e


# ---------------------------------------------------------------- Airtable
def _access(ctx: StepContext, base_id: str, minimum: str) -> Any:
    return workspace_access(ctx.workspace_id, ctx.run_as, base_id, minimum)


def workspace_access(workspace_id: str, run_as: str | None, base_id: str, minimum: str) -> Any:
    """A connection of the workflow's own workspace that reaches the base.

    Runs use the access of the member who last saved the workflow (`run_as`), and only through
    connections of the workflow's workspace: a member's other workspaces never leak into it.
    """

    if run_as is None:
        raise StepError("The member this workflow runs as is gone; save it again.", "forbidden")
    with UnitOfWork() as uow:
        ids = list(uow.session.scalars(select(AirtableConnection.id).where(
            AirtableConnection.workspace_id == workspace_id).order_by(
            AirtableConnection.created_at)))
        refused: AppError | None = None
        for connection_id in ids:
            try:
                return connections.for_base(uow, run_as, base_id, minimum,  # type: ignore[arg-type]
                                            connection_id=connection_id)
            except (NotFound, Forbidden) as e:
                refused = refused if isinstance(refused, Forbidden) else e
    if isinstance(refused, Forbidden):
        raise StepError(refused.message, "forbidden")
    raise StepError(f"No Airtable connection of this workflow's workspace reaches {base_id}.",
                    "not_found")


def list_records(config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
    """Every page up to `max_records`, through the shared cache and limiter."""

    access = _access(ctx, config["base_id"], "viewer")
    limit = int(config.get("max_records", 1000))
    options: dict[str, Any] = {"page_size": 100, "max_records": limit}
    for key in ("view", "fields", "formula"):
        if config.get(key):
            options[key] = config[key]
    if config.get("filter"):
        options["formula"] = formulas.filter_formula(config["filter"])
    found: list[dict[str, Any]] = []
    offset = None
    while True:
        page = records.list_page(access, config["base_id"], config["table"], options,
                                 offset).value
        found += [{"id": r["id"], "created_time": r.get("created_time"), "fields": r["fields"]}
                  for r in page["records"]]
        offset = page.get("offset")
        if not offset or len(found) >= limit:
            return {"records": found[:limit]}


def _record_list(value: Any, need_id: bool) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise StepError("records must be a list of {fields} objects.", "validation_error")
    out = []
    for i, record in enumerate(value):
        if not isinstance(record, dict) or not isinstance(record.get("fields"), dict):
            raise StepError(f"records[{i}] must be an object with `fields`.", "validation_error")
        if need_id and not isinstance(record.get("id"), str):
            raise StepError(f"records[{i}] needs the `id` of the record to update.",
                            "validation_error")
        out.append({"id": record["id"], "fields": record["fields"]} if need_id
                   else {"fields": record["fields"]})
    return out


def create_records(config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
    """Create records, 10 per request, all or nothing."""

    rows = _record_list(config["records"], need_id=False)
    if not rows:
        return {"records": []}
    access = _access(ctx, config["base_id"], "editor")
    return {"records": records.create(access, config["base_id"], config["table"], rows,
                                      bool(config.get("typecast")))}


def update_records(config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
    """Update records by id, 10 per request."""

    rows = _record_list(config["records"], need_id=True)
    if not rows:
        return {"records": []}
    access = _access(ctx, config["base_id"], "editor")
    return {"records": records.update(access, config["base_id"], config["table"], rows,
                                      bool(config.get("typecast")))}


def upsert_records(config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
    """Create or update by the `merge_on` fields, 10 per request."""

    rows = _record_list(config["records"], need_id=False)
    if not rows:
        return {"records": [], "created_ids": [], "updated_ids": []}
    access = _access(ctx, config["base_id"], "editor")
    return records.upsert(access, config["base_id"], config["table"], rows, config["merge_on"],
                          bool(config.get("typecast")))


def delete_records(config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
    """Delete by id; `ids` may also be a list of records (their ids are taken)."""

    ids = config["ids"]
    if not isinstance(ids, list):
        raise StepError("ids must be a list of record ids.", "validation_error")
    ids = [i.get("id") if isinstance(i, dict) else i for i in ids]
    if not all(isinstance(i, str) for i in ids):
        raise StepError("ids must be record ids (or records with an id).", "validation_error")
    if not ids:
        return {"deleted": []}
    access = _access(ctx, config["base_id"], "editor")
    return {"deleted": records.delete(access, config["base_id"], config["table"], ids)}


# ---------------------------------------------------------------- pure steps
def transform(config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
    """One `{fields}` record per item, each field a template over `item`."""
    items = config["items"]
    if not isinstance(items, list):
        raise StepError("items must be a list (or a template giving one).", "validation_error")
    return {"records": [{"fields": render(config["fields"], {**ctx.data, "item": item})}
                        for item in items]}


def condition(config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
    """`{result}`; a false result ends the execution (as succeeded)."""
    return {"result": evaluate(config["op"], config.get("left"), config.get("right"))}


def evaluate(op: str, left: Any, right: Any) -> bool:
    """A condition's comparison; numbers compare as numbers even when given as text."""
    if op == "empty":
        return left is None or left in ("", [], {})
    if op == "contains":
        if isinstance(left, str):
            return str(right) in left
        return isinstance(left, list | dict) and right in left
    a, b = _comparable(left), _comparable(right)
    if op == "eq":
        return a == b
    if op == "ne":
        return a != b
    try:
        return a > b if op == "gt" else a < b
    except TypeError as e:
        raise StepError(f"cannot compare {left!r} with {right!r}.", "validation_error") from e


def _comparable(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    if isinstance(value, bool):
        return value
    return float(value) if isinstance(value, int | float) else value


def delay(config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
    """Nothing to do here: the state machine's Wait state does the waiting."""
    return {"seconds": int(config["seconds"])}


def notify(config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
    """A notification event to the workflow's owner (published when the step is recorded)."""
    user_id = ctx.owner_id or ctx.run_as
    if user_id is None:
        raise StepError("The workflow has no owner to notify.", "not_found")
    detail = {"user_id": user_id, "title": str(config["title"])[:200],
              "body": str(config.get("body") or ""), "workflow_id": ctx.workflow_id,
              "execution_id": ctx.execution_id, "workspace_id": ctx.workspace_id}
    ctx.events.append(("workflow.notification", detail))
    return {"notified": user_id, "title": detail["title"]}


# ---------------------------------------------------------------- outbound
HTTP_TIMEOUT = 10.0
HTTP_MAX_RESPONSE = 256 * 1024


def http_request(config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
    """One outbound call under the shared address rule; any HTTP status is a result."""

    body = config.get("body")
    headers = secret_headers.opened(ctx.workflow_id, config.get("headers"))
    data = None
    if body is not None:
        if isinstance(body, str):
            data = body.encode()
        else:
            data = json.dumps(body, default=str).encode()
            headers.setdefault("Content-Type", "application/json")
    try:
        response = outbound.send(str(config.get("method", "GET")), str(config["url"]),
                                 headers=headers, body=data, timeout=HTTP_TIMEOUT,
                                 max_response_bytes=HTTP_MAX_RESPONSE)
    except outbound.RefusedTarget as e:
        raise StepError(e.message, "refused_target") from e
    except outbound.OutboundError as e:
        raise TransientStepError(e.message, "upstream_error") from e
    text = response.body.decode("utf-8", errors="replace")
    parsed: Any = None
    if "json" in response.headers.get("Content-Type", response.headers.get("content-type", "")):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
    return {"status": response.status, "headers": response.headers,
            "body": parsed if parsed is not None else text, "truncated": response.truncated,
            "elapsed_ms": response.elapsed_ms}


def files_export(config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
    """Hand a table export to the files service; the step's output names the export job."""

    run_as = _member(ctx)
    spec = _files_spec(ExportIn, {**config, "workspace_id": ctx.workspace_id})
    return jobs.start_export(spec, UnitOfWork(), Identity(user_id=run_as, role="member"),
                             _workspace_access_for(ctx)).model_dump(mode="json")


def files_import(config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
    """Hand a file import to the files service, keyed by execution and step (started once)."""

    run_as = _member(ctx)
    spec = _files_spec(ImportIn, {k: v for k, v in config.items() if k != "file_id"})
    _own_file(ctx, str(config["file_id"]))
    cmd = ImportFile(file_id=str(config["file_id"]), body=spec,
                     idempotency_key=f"workflow:{ctx.execution_id}:{ctx.position}")
    return jobs.start_import(cmd, UnitOfWork(), Identity(user_id=run_as, role="member"),
                             _workspace_access_for(ctx)).model_dump(mode="json")


def _member(ctx: StepContext) -> str:
    if ctx.run_as is None:
        raise StepError("The member this workflow runs as is gone; save it again.", "forbidden")
    return ctx.run_as


def _workspace_access_for(ctx: StepContext) -> Callable[..., Any]:
    """The files service's connection picker, held to the workflow's own workspace."""
    return lambda _uow, user_id, base_id, minimum: workspace_access(
        ctx.workspace_id, user_id, base_id, minimum)


def _own_file(ctx: StepContext, file_id: str) -> None:
    """A file of another workspace is as good as missing to a workflow."""

    with UnitOfWork() as uow:
        stored = uow.session.get(StoredFile, file_id)
        if stored is None or stored.workspace_id != ctx.workspace_id:
            raise StepError("No such file in this workflow's workspace.", "not_found")


def _files_spec(model: Any, data: dict[str, Any]) -> Any:
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
                             for err in e.errors())
        raise StepError(f"Invalid files step config: {problems}", "validation_error") from e


EXECUTORS: dict[str, Callable[[dict[str, Any], StepContext], Any]] = {
    "airtable.list_records": list_records, "airtable.create_records": create_records,
    "airtable.update_records": update_records, "airtable.upsert_records": upsert_records,
    "airtable.delete_records": delete_records, "transform": transform, "condition": condition,
    "delay": delay, "notify": notify, "http_request": http_request,
    "files.export": files_export, "files.import": files_import,
}

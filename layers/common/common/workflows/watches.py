"""`airtable_change` triggers: an Airtable webhook per workflow, its payloads read with a cursor.

Airtable's webhooks API is used rather than polling on a modified-time field: it reports
deletions (polling cannot see a row that is gone) and changes to any field, and it costs one or
two requests per minute per watched table whatever the table's size. The webhook is created
without a notification URL: the workflows scheduler reads new payloads every minute with the
stored cursor, so no public endpoint has to be reachable from Airtable (a laptop or a private
deployment works the same), and a change starts its workflow within about a minute. The
scheduler also refreshes each webhook before Airtable's 7-day expiry.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from common.airtable import schema
from common.core.clock import as_utc, now
from common.core.errors import AppError, ValidationFailed
from common.core.models import Workflow
from common.core.observability import logger
from common.workflows.steps import StepError, workspace_access

REFRESH_BEFORE = timedelta(days=2)
MAX_PAYLOADS_PER_TICK = 200


def _spec(table_id: str) -> dict[str, Any]:
    return {"options": {"filters": {"dataTypes": ["tableData"], "recordChangeScope": table_id},
                        "includes": {"includeCellValuesInFieldIds": "all"}}}


def _table(access: Any, base_id: str, table: str) -> dict[str, Any]:

    for candidate in schema.base_schema(access, base_id).value.get("tables", []):
        if table in (candidate["id"], candidate["name"]):
            return candidate
    raise ValidationFailed(f"Airtable has no table {table!r} in this base.",
                           details=[{"field": "trigger.table", "problem": "no such table"}])


def add(workspace_id: str, user_id: str, trigger: dict[str, Any]) -> dict[str, Any]:
    """Create the Airtable webhook of a new `airtable_change` trigger; returns the watch state."""
    base_id = trigger["base_id"]
    try:
        access = workspace_access(workspace_id, user_id, base_id, "editor")
    except StepError as e:
        raise ValidationFailed(e.message, details=[
            {"field": "trigger.base_id", "problem": e.code}]) from e
    table = _table(access, base_id, trigger["table"])
    created = access.api.base(base_id).add_webhook(None, _spec(table["id"]))  # type: ignore[arg-type]
    return {"base_id": base_id, "table_id": table["id"], "webhook_id": created.id,
            "cursor": 1, "expires_at": _iso(created.expiration_time),
            "fields": {f["id"]: f["name"] for f in table.get("fields", [])}}


def remove(workflow: Workflow, watch: dict[str, Any]) -> None:
    """Delete a watch's Airtable webhook (best effort: it expires on its own anyway); called
    once the change that dropped it is committed."""
    if not watch.get("webhook_id"):
        return
    try:
        access = workspace_access(workflow.workspace_id, workflow.run_as, watch["base_id"],
                                  "viewer")
        url = access.api.build_url("bases", watch["base_id"], "webhooks", watch["webhook_id"])
        access.api.request("DELETE", url)
    except (AppError, StepError) as e:
        logger.warning("airtable webhook not deleted",
                       extra={"workflow_id": workflow.id, "error": type(e).__name__})


def poll(workflow: Workflow) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, Any]]:
    """New changes since the stored cursor as (trigger key, execution input), and the watch
    past them, which the caller stores once every change's execution is recorded.

    One payload (one Airtable transaction) is one execution; its key makes a payload read twice
    (a crash before the cursor was saved) start its workflow only once.
    """
    watch = dict(workflow.watch or {})
    access = workspace_access(workflow.workspace_id, workflow.run_as, watch["base_id"], "viewer")
    hook = access.api.base(watch["base_id"]).webhook(watch["webhook_id"])
    wanted = set(workflow.trigger.get("changes") or ("created", "updated", "deleted"))
    names: dict[str, str] = watch.get("fields") or {}
    found: list[tuple[str, dict[str, Any]]] = []
    cursor = int(watch.get("cursor") or 1)
    for payload in hook.payloads(cursor=cursor, limit=MAX_PAYLOADS_PER_TICK):
        cursor = int(payload.cursor or cursor) + 1
        table = payload.changed_tables_by_id.get(watch["table_id"])
        if table is None:
            continue
        change = _change(table, wanted, names)
        if any(change.values()):
            found.append((f"airtable:{watch['webhook_id']}:{payload.cursor}", {
                "base_id": watch["base_id"], "table_id": watch["table_id"],
                "timestamp": payload.timestamp.isoformat(), **change}))
    watch["cursor"] = cursor
    expires = watch.get("expires_at")
    if expires and datetime.fromisoformat(expires) - now() < REFRESH_BEFORE:
        hook.extend_expiration()
        if hook.expiration_time:
            watch["expires_at"] = _iso(hook.expiration_time)
    return found, watch


def _iso(value: Any) -> str | None:
    # pyairtable parses expirationTime on creation but stores the raw string after a refresh.
    if value is None:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) \
        else value
    return as_utc(moment).isoformat()


def _change(table: Any, wanted: set[str], names: dict[str, str]) -> dict[str, Any]:
    def fields(cells: Any) -> dict[str, Any]:
        values = cells.cell_values_by_field_id if cells is not None else {}
        return {names.get(k, k): v for k, v in (values or {}).items()}

    return {
        "created": [{"id": rid, "fields": fields(r)}
                    for rid, r in table.created_records_by_id.items()]
        if "created" in wanted else [],
        "updated": [{"id": rid, "fields": fields(r.current)}
                    for rid, r in table.changed_records_by_id.items()]
        if "updated" in wanted else [],
        "deleted": list(table.destroyed_record_ids) if "deleted" in wanted else []}

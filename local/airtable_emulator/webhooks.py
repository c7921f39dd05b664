"""Airtable's webhooks API: create, list, refresh, delete, and payloads read with a cursor.

Record writes through the API become payloads (`changedTablesById` with created, changed and
destroyed records, cell values by field id) on every webhook of the base whose specification
covers the table. Notification pings to a `notificationUrl` are not sent: a client reads
payloads with its cursor (as the workflows scheduler does). Webhooks are not persisted.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .errors import ApiError, invalid_request
from .fields import iso_timestamp
from .ids import new_id
from .store import Store, Table

LIFETIME = timedelta(days=7)
PAGE = 50


@dataclass
class Webhook:
    """One webhook of a base, with every payload recorded since its creation."""

    id: str
    base_id: str
    specification: dict[str, Any]
    notification_url: str | None
    mac_secret: bytes
    expires_at: datetime
    payloads: list[dict[str, Any]] = field(default_factory=list)

    def covers(self, table_id: str) -> bool:
        """Whether a change to records of this table belongs in this webhook's payloads."""
        filters = self.specification.get("options", {}).get("filters", {})
        scope = filters.get("recordChangeScope")
        return "tableData" in filters.get("dataTypes", []) and scope in (None, table_id)

    def to_json(self) -> dict[str, Any]:
        """The list-webhooks model."""
        return {"id": self.id, "areNotificationsEnabled": self.notification_url is not None,
                "cursorForNextPayload": len(self.payloads) + 1, "isHookEnabled": True,
                "lastSuccessfulNotificationTime": None, "lastNotificationResult": None,
                "notificationUrl": self.notification_url,
                "expirationTime": iso_timestamp(self.expires_at),
                "specification": self.specification}


def _hooks(store: Store, base_id: str) -> dict[str, Webhook]:
    store.base(base_id)  # 403/404 for bases the token cannot see
    return store.webhooks.setdefault(base_id, {})


def _hook(store: Store, base_id: str, webhook_id: str) -> Webhook:
    hook = _hooks(store, base_id).get(webhook_id)
    if hook is None:
        raise ApiError(404, "NOT_FOUND", f"Could not find webhook {webhook_id}")
    return hook


def create(store: Store, body: dict[str, Any], base_id: str) -> dict[str, Any]:
    """POST /v0/bases/{base}/webhooks."""
    spec = body.get("specification")
    filters = (spec or {}).get("options", {}).get("filters") if isinstance(spec, dict) else None
    if not isinstance(filters, dict) or not filters.get("dataTypes"):
        raise invalid_request("specification.options.filters.dataTypes is required")
    scope = filters.get("recordChangeScope")
    if scope is not None and store.base(base_id).table(scope) is None:
        raise invalid_request(f"recordChangeScope {scope} is not a table of this base")
    hook = Webhook(id=new_id("ach"), base_id=base_id, specification=spec,
                   notification_url=body.get("notificationUrl"),
                   mac_secret=secrets.token_bytes(32),
                   expires_at=datetime.now(UTC) + LIFETIME)
    _hooks(store, base_id)[hook.id] = hook
    return {"id": hook.id, "macSecretBase64": base64.b64encode(hook.mac_secret).decode(),
            "expirationTime": iso_timestamp(hook.expires_at)}


def list_all(store: Store, base_id: str) -> dict[str, Any]:
    """GET /v0/bases/{base}/webhooks."""
    return {"webhooks": [h.to_json() for h in _hooks(store, base_id).values()]}


def refresh(store: Store, base_id: str, webhook_id: str) -> dict[str, Any]:
    """POST /v0/bases/{base}/webhooks/{id}/refresh: seven more days."""
    hook = _hook(store, base_id, webhook_id)
    hook.expires_at = datetime.now(UTC) + LIFETIME
    return {"expirationTime": iso_timestamp(hook.expires_at)}


def delete(store: Store, base_id: str, webhook_id: str) -> dict[str, Any]:
    """DELETE /v0/bases/{base}/webhooks/{id}."""
    _hook(store, base_id, webhook_id)
    del _hooks(store, base_id)[webhook_id]
    return {}


def payloads(store: Store, base_id: str, webhook_id: str, cursor: str | None,
             limit: str | None) -> dict[str, Any]:
    """GET /v0/bases/{base}/webhooks/{id}/payloads?cursor=&limit=."""
    hook = _hook(store, base_id, webhook_id)
    try:
        start = int(cursor or 1)
        size = min(int(limit or PAGE), PAGE)
    except ValueError:
        raise invalid_request("cursor and limit must be integers") from None
    if start < 1 or size < 1:
        raise invalid_request("cursor and limit must be positive")
    page = hook.payloads[start - 1:start - 1 + size]
    following = start + len(page)
    return {"payloads": page, "cursor": following,
            "mightHaveMore": following <= len(hook.payloads), "payloadFormat": "v0"}


def tracking(store: Store, base_id: str, table_key: str, user_id: str,
             write: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a record write and record what it changed in the base's webhooks' payloads."""
    hooks = store.webhooks.get(base_id)
    table = _table_or_none(store, base_id, table_key) if hooks else None
    if table is None or not any(h.covers(table.id) for h in hooks.values()):
        return write()
    before = {rid: dict(r.cells) for rid, r in table.records.items()}
    result = write()
    change = _diff(table, before)
    if change:
        payload = {"timestamp": iso_timestamp(datetime.now(UTC)), "payloadFormat": "v0",
                   "baseTransactionNumber": sum(len(h.payloads) for h in hooks.values()) + 1,
                   "actionMetadata": {"source": "publicApi",
                                      "sourceMetadata": {"user": {"id": user_id}}},
                   "changedTablesById": {table.id: change}}
        for hook in hooks.values():
            if hook.covers(table.id):
                hook.payloads.append(payload)
    return result


def _table_or_none(store: Store, base_id: str, key: str) -> Table | None:
    base = store.bases.get(base_id)
    return base.table(key) if base is not None else None


def _diff(table: Table, before: dict[str, dict[str, Any]]) -> dict[str, Any]:
    after = {rid: (r.created_time, dict(r.cells)) for rid, r in table.records.items()}
    created = {rid: {"createdTime": created_time, "cellValuesByFieldId": cells}
               for rid, (created_time, cells) in after.items() if rid not in before}
    changed = {}
    for rid, (_, cells) in after.items():
        if rid in before and cells != before[rid]:
            touched = {k for k in cells.keys() | before[rid].keys()
                       if cells.get(k) != before[rid].get(k)}
            changed[rid] = {"current": {"cellValuesByFieldId": {
                k: cells.get(k) for k in touched}}}
    destroyed = [rid for rid in before if rid not in after]
    change: dict[str, Any] = {}
    if created:
        change["createdRecordsById"] = created
    if changed:
        change["changedRecordsById"] = changed
    if destroyed:
        change["destroyedRecordIds"] = destroyed
    return change

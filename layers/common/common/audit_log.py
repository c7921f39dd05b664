"""The audit log as admins read it (GET /api/platform/audit), newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select

from common import cursor
from common.db import UnitOfWork
from common.models import AuditEntry


def entries(uow: UnitOfWork, *, limit: int, after: str | None, action: str | None = None,
            actor_id: str | None = None, since: datetime | None = None,
            until: datetime | None = None) -> dict[str, Any]:
    """One page of audit entries, filtered by action, actor and time range [since, until)."""
    query = select(AuditEntry).order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
    if action:
        query = query.where(AuditEntry.action == action)
    if actor_id:
        query = query.where(AuditEntry.actor_id == actor_id)
    if since is not None:
        query = query.where(AuditEntry.occurred_at >= since)
    if until is not None:
        query = query.where(AuditEntry.occurred_at < until)
    if after:
        stamp, last_id = cursor.decode(after, 2)
        at = cursor.instant(stamp)
        query = query.where(or_(AuditEntry.occurred_at < at,
                                and_(AuditEntry.occurred_at == at, AuditEntry.id < last_id)))
    with uow:
        rows = list(uow.session.scalars(query.limit(limit + 1)))
        page = [_out(e) for e in rows[:limit]]
    last = page[-1] if len(rows) > limit else None
    next_cursor = cursor.encode(last["occurred_at"], last["id"]) if last else None
    return {"items": page, "next_cursor": next_cursor}



def _out(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "occurred_at": entry.occurred_at.isoformat(),
            "action": entry.action, "actor_id": entry.actor_id, "target_id": entry.target_id,
            "ip": entry.ip, "details": entry.details or {}}

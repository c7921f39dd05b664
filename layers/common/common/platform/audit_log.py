"""The audit log as admins read it (GET /api/platform/audit), newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, or_, select

from common.core import cursor
from common.core.db import UnitOfWork
from common.core.identity import Identity
from common.core.models import AuditEntry
from common.core.schemas import IsoTime, Page


@dataclass(frozen=True, kw_only=True)
class AuditQuery:
    """GET /api/platform/audit: the filters and the page to read."""

    limit: int = 50
    cursor: str | None = None
    action: str | None = None
    actor_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditEntryOut(BaseModel):
    """One audit entry: who did what to whom, from where."""

    id: str
    occurred_at: IsoTime
    action: str
    actor_id: str | None
    target_id: str | None
    ip: str | None
    details: dict[str, Any]


def entries(cmd: AuditQuery, uow: UnitOfWork, identity: Identity) -> Page[AuditEntryOut]:
    """One page of audit entries, filtered by action, actor and time range [since, until)."""
    query = select(AuditEntry).order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
    if cmd.action:
        query = query.where(AuditEntry.action == cmd.action)
    if cmd.actor_id:
        query = query.where(AuditEntry.actor_id == cmd.actor_id)
    if cmd.since is not None:
        query = query.where(AuditEntry.occurred_at >= cmd.since)
    if cmd.until is not None:
        query = query.where(AuditEntry.occurred_at < cmd.until)
    if cmd.cursor:
        stamp, last_id = cursor.decode(cmd.cursor, 2)
        at = cursor.instant(stamp)
        query = query.where(or_(AuditEntry.occurred_at < at,
                                and_(AuditEntry.occurred_at == at, AuditEntry.id < last_id)))
    with uow:
        rows = list(uow.session.scalars(query.limit(cmd.limit + 1)))
        page = [_out(e) for e in rows[:cmd.limit]]
    last = page[-1] if len(rows) > cmd.limit else None
    next_cursor = cursor.encode(last.occurred_at.isoformat(), last.id) if last else None
    return Page[AuditEntryOut](items=page, next_cursor=next_cursor)


def _out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(id=entry.id, occurred_at=entry.occurred_at, action=entry.action,
                         actor_id=entry.actor_id, target_id=entry.target_id, ip=entry.ip,
                         details=entry.details or {})

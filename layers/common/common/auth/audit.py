"""Security events: an audit row in the caller's unit of work, a domain event once committed."""

from __future__ import annotations

from typing import Any

from common import events
from common.db import UnitOfWork
from common.models import AuditEntry

ACTIONS = frozenset({
    "user.registered", "user.login", "user.login_failed", "user.locked_out",
    "user.password_changed", "user.logout", "user.session_revoked", "user.refresh_reused",
    "user.updated", "user.role_changed", "user.deactivated", "user.reactivated",
    "api_key.created", "api_key.revoked"})


def record(uow: UnitOfWork, action: str, *, actor_id: str | None, target_id: str | None = None,
           ip: str | None = None, **details: Any) -> AuditEntry:
    """Add an audit row to the unit of work (it is written when the caller commits)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action}")
    entry = AuditEntry(action=action, actor_id=actor_id, target_id=target_id, ip=ip,
                       details=details)
    uow.session.add(entry)
    return entry


def commit(uow: UnitOfWork, *entries: AuditEntry) -> None:
    """Commit, then publish one domain event per audit row (never before the data exists)."""
    uow.commit()
    for entry in entries:
        user_id = entry.target_id if entry.action.startswith("user.") else entry.actor_id
        events.publish(entry.action, {"audit_id": entry.id, "user_id": user_id or entry.actor_id,
                                      "actor_id": entry.actor_id, "target_id": entry.target_id,
                                      "occurred_at": entry.occurred_at, **entry.details})

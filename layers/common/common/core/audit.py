"""The audit trail: a row in the caller's unit of work, and a domain event once it commits."""

from __future__ import annotations

from typing import Any

from common.core.db import UnitOfWork
from common.core.models import AuditEntry, new_id, utcnow

ACTIONS = frozenset({
    "user.registered", "user.login", "user.login_failed", "user.locked_out",
    "user.password_changed", "user.logout", "user.session_revoked", "user.refresh_reused",
    "user.updated", "user.role_changed", "user.deactivated", "user.reactivated",
    "user.email_verified", "user.password_reset_requested", "user.password_reset",
    "api_key.created", "api_key.revoked",
    "workspace.created", "workspace.renamed", "workspace.deleted",
    "member.role_changed", "member.removed", "member.left",
    "invitation.created", "invitation.revoked", "invitation.accepted",
    "connection.created", "connection.deleted", "connection.default_attached",
    "oauth.approved", "oauth.token_issued", "oauth.revoked"})


def record(uow: UnitOfWork, action: str, *, actor_id: str | None, target_id: str | None = None,
           ip: str | None = None, **details: Any) -> AuditEntry:
    """Add an audit row and its domain event to the unit of work (both land when it commits)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action}")
    entry = AuditEntry(id=new_id(), occurred_at=utcnow(), action=action, actor_id=actor_id,
                       target_id=target_id, ip=ip, details=details)
    uow.session.add(entry)
    user_id = target_id if action.startswith("user.") else actor_id
    uow.add_event(action, {"audit_id": entry.id, "user_id": user_id or actor_id,
                           "actor_id": actor_id, "target_id": target_id,
                           "occurred_at": entry.occurred_at, **details})
    return entry

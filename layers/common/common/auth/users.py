"""Users service: profiles, self-deactivation and admin user management, as functions of
(command, unit of work, caller)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select

from common.auth import accounts, api_keys, sessions
from common.auth.commands import SearchUsers, UpdateUser
from common.auth.schemas import ProfilePatch, UserOut
from common.core import audit, cursor
from common.core.clock import now
from common.core.db import UnitOfWork
from common.core.errors import Forbidden, ValidationFailed
from common.core.identity import Identity
from common.core.models import User
from common.core.schemas import Page

MAX_PREFERENCES_BYTES = 16_384


def profile(uow: UnitOfWork, identity: Identity) -> UserOut:
    """The caller's profile."""
    with uow:
        return UserOut.model_validate(accounts.get(uow, identity.user_id))


def update_profile(cmd: ProfilePatch, uow: UnitOfWork, identity: Identity) -> UserOut:
    """Change the fields sent; preferences merge key by key, a null value removes a key."""
    changes = cmd.model_dump(exclude_unset=True)
    with uow:
        user = accounts.get(uow, identity.user_id, for_update="preferences" in changes)
        if changes.get("username") and changes["username"].lower() != (user.username or "").lower():
            accounts.ensure_unique(uow, username=changes["username"], exclude_id=user.id)
        for field in ("username", "first_name", "last_name"):
            if field in changes:
                setattr(user, field, changes[field] or None)
        if changes.get("preferences") is not None:
            user.preferences = _merged(user.preferences or {}, changes["preferences"])
        user.updated_at = now()
        audit.record(uow, "user.updated", actor_id=user.id, target_id=user.id,
                             fields=sorted(changes))
        uow.commit()
        return UserOut.model_validate(user)


def _merged(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = {**current, **patch}
    merged = {k: v for k, v in merged.items() if v is not None}
    if len(repr(merged)) > MAX_PREFERENCES_BYTES:
        raise ValidationFailed("Preferences are too large.", details=[
            {"field": "preferences", "problem": f"at most {MAX_PREFERENCES_BYTES} bytes"}])
    return merged


def deactivate_self(uow: UnitOfWork, identity: Identity) -> None:
    """Deactivate the caller's account and revoke every session and API key."""
    with uow:
        user = accounts.get(uow, identity.user_id)
        _deactivate(uow, user, actor_id=user.id)
        uow.commit()


def _deactivate(uow: UnitOfWork, user: User, *, actor_id: str) -> audit.AuditEntry:
    at = now()
    user.is_active, user.updated_at = False, at
    revoked = sessions.revoke_all(uow, user.id, at)
    for key in api_keys.of_user(uow, user.id):
        key.revoked_at = at
    return audit.record(uow, "user.deactivated", actor_id=actor_id, target_id=user.id,
                        sessions_revoked=revoked)


def search(cmd: SearchUsers, uow: UnitOfWork, identity: Identity) -> Page[UserOut]:
    """Admin listing, ordered by email; `cmd.cursor` is the previous page's cursor."""
    query = select(User).order_by(User.email).limit(cmd.limit + 1)
    if cmd.q:
        pattern = f"%{_escape_like(cmd.q.strip().lower())}%"
        query = query.where(or_(*(func.lower(c).like(pattern, escape="\\") for c in
                                  (User.email, User.username, User.first_name, User.last_name))))
    if cmd.role:
        query = query.where(User.role == cmd.role)
    if cmd.active is not None:
        query = query.where(User.is_active.is_(cmd.active))
    if cmd.cursor:
        query = query.where(User.email > cursor.decode(cmd.cursor, 1)[0])
    with uow:
        rows = list(uow.session.scalars(query))
        page = rows[:cmd.limit]
        next_cursor = cursor.encode(page[-1].email) if len(rows) > cmd.limit else None
        return Page[UserOut](items=[UserOut.model_validate(u) for u in page],
                             next_cursor=next_cursor)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def get(user_id: str, uow: UnitOfWork, identity: Identity) -> UserOut:
    """One user (the route is for admins)."""
    with uow:
        return UserOut.model_validate(accounts.get(uow, user_id))


def admin_update(cmd: UpdateUser, uow: UnitOfWork, identity: Identity) -> UserOut:
    """Change a user's role or active flag; an admin cannot demote or deactivate themselves."""
    change = cmd.body
    with uow:
        user = accounts.get(uow, cmd.user_id)
        if user.id == identity.user_id and (change.role == "member" or change.is_active is False):
            raise Forbidden("Administrators cannot demote or deactivate themselves.")
        if change.role is not None and change.role != user.role:
            audit.record(uow, "user.role_changed", actor_id=identity.user_id,
                         target_id=user.id, previous=user.role, role=change.role)
            user.role, user.updated_at = change.role, now()
        if change.is_active is False and user.is_active:
            _deactivate(uow, user, actor_id=identity.user_id)
        elif change.is_active is True and not user.is_active:
            user.is_active, user.updated_at = True, now()
            audit.record(uow, "user.reactivated", actor_id=identity.user_id, target_id=user.id)
        uow.commit()
        return UserOut.model_validate(user)

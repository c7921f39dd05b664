"""API keys `pyat_<8 hex>_<secret>`: shown once, stored as a SHA-256 hash."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from common.auth import tokens
from common.core.clock import is_past
from common.core.db import UnitOfWork
from common.core.models import ApiKey

_SHAPE = tokens.API_KEY_SHAPE


def generate() -> tuple[str, str]:
    """A new key and its display prefix (`pyat_<8 hex>`)."""
    prefix = f"pyat_{secrets.token_hex(4)}"
    return f"{prefix}_{tokens.opaque_secret()}", prefix


def create(uow: UnitOfWork, user_id: str, name: str, expires_in_days: int | None,
           at: datetime) -> tuple[ApiKey, str]:
    """Store a new key for `user_id`; the clear key is returned once and never stored."""
    key, prefix = generate()
    expires_at = at + timedelta(days=expires_in_days) if expires_in_days else None
    row = ApiKey(user_id=user_id, name=name, prefix=prefix, key_hash=tokens.digest(key),
                 created_at=at, expires_at=expires_at)
    uow.session.add(row)
    uow.flush()
    return row, key


def is_live(row: ApiKey | None, at: datetime) -> bool:
    """Not revoked and not expired."""
    return row is not None and row.revoked_at is None and not is_past(row.expires_at, at)


def find(uow: UnitOfWork, key: str) -> ApiKey | None:
    """The key's row, looked up by hash (a malformed key is not even looked up)."""
    if not _SHAPE.match(key):
        return None
    return uow.session.scalars(select(ApiKey).where(ApiKey.key_hash == tokens.digest(key))).first()


def of_user(uow: UnitOfWork, user_id: str) -> list[ApiKey]:
    """The user's unrevoked keys, newest first."""
    return list(uow.session.scalars(
        select(ApiKey).where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.created_at.desc())))


def revoke_all(uow: UnitOfWork, user_id: str, at: datetime) -> int:
    """Revoke every unrevoked key of `user_id` (a password change or reset); how many."""
    result = uow.session.execute(
        update(ApiKey).where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=at).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

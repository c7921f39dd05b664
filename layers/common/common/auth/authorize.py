"""The HTTP API authorizer's decision: a live session's access token, or a live API key.

On every request's path, so it reads with SQLAlchemy Core through the autocommit engine: one
statement, one round trip (and the ORM, the models and the X-Ray SDK are never imported).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import Boolean, DateTime, String, column, select, table, update

from common.auth import tokens
from common.clock import aware, is_past, now
from common.db import is_outage, reader

_BEARER = re.compile(r"^Bearer ([A-Za-z0-9_.~+/=-]+)$", re.IGNORECASE)
# Usage timestamps are for display; writing them at most once a minute keeps requests read-only.
_TOUCH_EVERY = timedelta(minutes=1)

# The columns the decision reads (the tables are common.models' User, AuthSession and ApiKey).
_users = table("users", column("id", String), column("role", String),
               column("is_active", Boolean))
_sessions = table("sessions", column("id", String), column("user_id", String),
                  column("expires_at", DateTime(timezone=True)),
                  column("revoked_at", DateTime(timezone=True)),
                  column("last_used_at", DateTime(timezone=True)))
_api_keys = table("api_keys", column("id", String), column("user_id", String),
                  column("key_hash", String), column("expires_at", DateTime(timezone=True)),
                  column("revoked_at", DateTime(timezone=True)),
                  column("last_used_at", DateTime(timezone=True)))
_BY_SESSION = select(_sessions.c.id, _sessions.c.expires_at, _sessions.c.revoked_at,
                     _sessions.c.last_used_at, _users.c.id.label("user_id"), _users.c.role,
                     _users.c.is_active).join_from(
    _sessions, _users, _users.c.id == _sessions.c.user_id)
_BY_KEY = select(_api_keys.c.id, _api_keys.c.expires_at, _api_keys.c.revoked_at,
                 _api_keys.c.last_used_at, _users.c.id.label("user_id"), _users.c.role,
                 _users.c.is_active).join_from(
    _api_keys, _users, _users.c.id == _api_keys.c.user_id)


def decide(headers: dict[str, Any]) -> dict[str, Any] | None:
    """The context for the functions, or None to refuse: `Authorization: Bearer <JWT or key>`."""
    authorization = _header(headers, "authorization")
    match = _BEARER.match(authorization.strip()) if authorization else None
    if not match:
        return None
    credential = match.group(1)
    # A JWT is three dot-separated parts; an API key has none (its shape is checked on lookup).
    try:
        if credential.count(".") == 2:
            return _by_token(credential)
        return _by_api_key(credential)
    except Exception as e:
        if not is_outage(e):
            raise
        # An authorizer cannot answer 503 (API Gateway turns its errors into 500), so it lets
        # the request through marked degraded, and `current_identity` answers 503 for every
        # route before anything is read or written: nothing is served on an unchecked token.
        return {"degraded": "database"}


def _header(headers: dict[str, Any], name: str) -> str | None:
    value = next((v for k, v in headers.items() if str(k).lower() == name), None)
    return value if isinstance(value, str) and value else None


def _live(row: Any, at: Any) -> bool:
    """Not revoked, not expired, and its user active."""
    return row.revoked_at is None and not is_past(row.expires_at, at) and bool(row.is_active)


def _by_token(token: str) -> dict[str, Any] | None:
    try:
        claims = tokens.decode_access_token(token)
    except tokens.InvalidToken:
        return None
    at = now()
    with reader().connect() as conn:
        row = conn.execute(_BY_SESSION.where(_sessions.c.id == claims["sid"])).first()
        if row is None or row.user_id != claims["sub"] or not _live(row, at):
            return None
        if at - aware(row.last_used_at) > _TOUCH_EVERY:  # type: ignore[operator]
            conn.execute(update(_sessions).where(_sessions.c.id == row.id)
                         .values(last_used_at=at))
    return {"user_id": row.user_id, "role": row.role, "session_id": row.id,
            "expires_at": int(claims["exp"])}


def _by_api_key(key: str) -> dict[str, Any] | None:
    if not tokens.API_KEY_SHAPE.match(key):
        return None
    at = now()
    with reader().connect() as conn:
        row = conn.execute(_BY_KEY.where(_api_keys.c.key_hash == tokens.digest(key))).first()
        if row is None or not _live(row, at):
            return None
        if row.last_used_at is None or at - aware(row.last_used_at) > _TOUCH_EVERY:
            conn.execute(update(_api_keys).where(_api_keys.c.id == row.id)
                         .values(last_used_at=at))
    return {"user_id": row.user_id, "role": row.role, "api_key_id": row.id}

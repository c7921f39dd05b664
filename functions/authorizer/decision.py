"""Who the caller is: a live session's access token, or a live API key (same rules as the
auth service's: not revoked, not expired, its user active; usage timestamps kept)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import store

from common.core import credentials
from common.core.secrets_extension import secret_text

# Usage timestamps are for display; writing them at most once a minute keeps requests read-only.
_TOUCH_EVERY = timedelta(minutes=1)

# The columns the decision reads (the tables are common.core.models' User, AuthSession and ApiKey).
_BY_SESSION = ("SELECT s.id, s.expires_at, s.revoked_at, s.last_used_at, u.id AS user_id, "
               "u.role, u.is_active FROM sessions s JOIN users u ON u.id = s.user_id "
               "WHERE s.id = :id")
_BY_KEY = ("SELECT k.id, k.expires_at, k.revoked_at, k.last_used_at, u.id AS user_id, "
           "u.role, u.is_active FROM api_keys k JOIN users u ON u.id = k.user_id "
           "WHERE k.key_hash = :key_hash")
_TOUCH_SESSION = "UPDATE sessions SET last_used_at = :at WHERE id = :id"
_TOUCH_KEY = "UPDATE api_keys SET last_used_at = :at WHERE id = :id"


def signing_key() -> bytes:
    """The HMAC key, from the secret the template creates (through the extension)."""
    return credentials.hmac_key(secret_text(os.environ["JWT_SECRET_ARN"]))


def decide(headers: dict[str, Any]) -> dict[str, Any] | None:
    """The context for the functions, or None to refuse: `Authorization: Bearer <JWT or key>`."""
    credential = credentials.bearer(headers)
    if credential is None:
        return None
    try:
        if credentials.is_jwt(credential):
            return _by_token(credential)
        return _by_api_key(credential)
    except store.Outage:
        # An authorizer cannot answer 503 (API Gateway turns its errors into 500), so it lets
        # the request through marked degraded, and `current_identity` answers 503 for every
        # route before anything is read or written: nothing is served on an unchecked token.
        return {"degraded": "database"}


def _live(row: dict[str, Any], at: datetime) -> bool:
    """Not revoked, not expired, and its user active."""
    expires_at = row["expires_at"]
    return (row["revoked_at"] is None and (expires_at is None or expires_at > at)
            and bool(row["is_active"]))


def _by_token(token: str) -> dict[str, Any] | None:
    try:
        claims = credentials.verified_claims(
            token, signing_key(), issuer=os.environ.get("JWT_ISSUER", "pyairtable"),
            audience=os.environ.get("JWT_AUDIENCE", "pyairtable-api"))
    except credentials.InvalidToken:
        return None
    at = datetime.now(UTC)
    found = store.rows(_BY_SESSION, id=claims["sid"])
    row = found[0] if found else None
    if row is None or row["user_id"] != claims["sub"] or not _live(row, at):
        return None
    if at - row["last_used_at"] > _TOUCH_EVERY:
        store.rows(_TOUCH_SESSION, at=at, id=row["id"])
    return {"user_id": row["user_id"], "role": row["role"], "session_id": row["id"],
            "expires_at": int(claims["exp"])}


def _by_api_key(key: str) -> dict[str, Any] | None:
    if not credentials.API_KEY_SHAPE.match(key):
        return None
    at = datetime.now(UTC)
    found = store.rows(_BY_KEY, key_hash=credentials.digest(key))
    row = found[0] if found else None
    if row is None or not _live(row, at):
        return None
    if row["last_used_at"] is None or at - row["last_used_at"] > _TOUCH_EVERY:
        store.rows(_TOUCH_KEY, at=at, id=row["id"])
    return {"user_id": row["user_id"], "role": row["role"], "api_key_id": row["id"]}

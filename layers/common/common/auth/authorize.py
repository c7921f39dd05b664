"""The HTTP API authorizer's decision: a live session's access token, or a live API key."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from common.auth import api_keys, sessions, tokens
from common.clock import aware, now
from common.db import UnitOfWork
from common.models import AuthSession, User

_BEARER = re.compile(r"^Bearer ([A-Za-z0-9_.~+/=-]+)$", re.IGNORECASE)
# Usage timestamps are for display; writing them at most once a minute keeps requests read-only.
_TOUCH_EVERY = timedelta(minutes=1)


def decide(headers: dict[str, Any], uow: UnitOfWork) -> dict[str, Any] | None:
    """The context for the functions, or None to refuse: `Authorization: Bearer <JWT or key>`."""
    authorization = _header(headers, "authorization")
    match = _BEARER.match(authorization.strip()) if authorization else None
    if not match:
        return None
    credential = match.group(1)
    # A JWT is three dot-separated parts; an API key has none (its shape is checked on lookup).
    if credential.count(".") == 2:
        return _by_token(credential, uow)
    return _by_api_key(credential, uow)


def _header(headers: dict[str, Any], name: str) -> str | None:
    value = next((v for k, v in headers.items() if str(k).lower() == name), None)
    return value if isinstance(value, str) and value else None


def _by_token(token: str, uow: UnitOfWork) -> dict[str, Any] | None:
    try:
        claims = tokens.decode_access_token(token)
    except tokens.InvalidToken:
        return None
    at = now()
    with uow:
        row = uow.session.execute(
            select(AuthSession, User).join(User, User.id == AuthSession.user_id)
            .where(AuthSession.id == claims["sid"])).first()
        if row is None:
            return None
        session, user = row
        if user.id != claims["sub"] or not user.is_active or not sessions.is_live(session, at):
            return None
        if at - aware(session.last_used_at) > _TOUCH_EVERY:  # type: ignore[operator]
            session.last_used_at = at
            uow.commit()
        return {"user_id": user.id, "role": user.role, "session_id": session.id,
                "expires_at": int(claims["exp"])}


def _by_api_key(key: str, uow: UnitOfWork) -> dict[str, Any] | None:
    at = now()
    with uow:
        row = api_keys.find(uow, key)
        if row is None or not api_keys.is_live(row, at):
            return None
        user = uow.session.get(User, row.user_id)
        if user is None or not user.is_active:
            return None
        if row.last_used_at is None or at - _aware(row.last_used_at) > _TOUCH_EVERY:
            row.last_used_at = at
            uow.commit()
        return {"user_id": user.id, "role": user.role, "api_key_id": row.id}


def _aware(value: datetime) -> datetime:
    return aware(value)  # type: ignore[return-value]

"""Short-lived JWT access tokens (HS256, key from Secrets Manager) and opaque secrets."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import jwt

from common.core.credentials import (  # noqa: F401 (this module's names since the start)
    ALGORITHM,
    API_KEY_SHAPE,
    MAX_TOKEN_LENGTH,
    REQUIRED_CLAIMS,
    InvalidToken,
    digest,
    hmac_key,
    opaque_secret,
    verified_claims,
)
from common.core.secrets import secret_text
from common.core.settings import get_settings


def signing_key() -> bytes:
    """The HMAC key, from the secret the template creates (cached by `common.core.secrets`)."""

    return hmac_key(secret_text(get_settings().jwt_secret_arn))


def issue_access_token(*, user_id: str, session_id: str, role: str, issued_at: datetime,
                       audience: str | None = None) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds; for the API's routes, or for one
    resource only (an OAuth grant's `audience`: the authorizer refuses it everywhere else)."""
    settings = get_settings()
    ttl = settings.access_token_ttl_seconds
    iat = int(issued_at.timestamp())
    claims = {"sub": user_id, "sid": session_id, "role": role, "iat": iat, "exp": iat + ttl,
              "iss": settings.jwt_issuer, "aud": audience or settings.jwt_audience,
              "jti": secrets.token_hex(16)}
    return jwt.encode(claims, signing_key(), algorithm=ALGORITHM), ttl


def decode_access_token(token: str) -> dict[str, Any]:
    """The verified claims; anything else (other algorithm, audience, issuer, expiry) refused."""
    settings = get_settings()
    return verified_claims(token, signing_key(), issuer=settings.jwt_issuer,
                           audience=settings.jwt_audience)

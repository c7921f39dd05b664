"""Short-lived JWT access tokens (HS256, key from Secrets Manager) and opaque secrets."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from typing import Any

import jwt

from common.settings import get_settings

ALGORITHM = "HS256"
# API keys are `pyat_<8 hex>_<43 url-safe>` (the prefix tells the authorizer the kind);
# anything else is never looked up.
API_KEY_SHAPE = re.compile(r"^pyat_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$")
REQUIRED_CLAIMS = ("sub", "sid", "role", "iat", "exp", "iss", "aud", "jti")
MAX_TOKEN_LENGTH = 4096
_MIN_KEY_BYTES = 32


class InvalidToken(Exception):
    """The token is not one this deployment issued, or no longer valid."""


def signing_key() -> bytes:
    """The HMAC key, from the secret the template creates (cached by `common.secrets`)."""
    from common.secrets import secret_text

    key = secret_text(get_settings().jwt_secret_arn).encode()
    if len(key) < _MIN_KEY_BYTES:
        raise RuntimeError("the JWT signing secret is too short")
    return key


def issue_access_token(*, user_id: str, session_id: str, role: str,
                       issued_at: datetime) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds."""
    settings = get_settings()
    ttl = settings.access_token_ttl_seconds
    iat = int(issued_at.timestamp())
    claims = {"sub": user_id, "sid": session_id, "role": role, "iat": iat, "exp": iat + ttl,
              "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
              "jti": secrets.token_hex(16)}
    return jwt.encode(claims, signing_key(), algorithm=ALGORITHM), ttl


def decode_access_token(token: str) -> dict[str, Any]:
    """The verified claims; anything else (other algorithm, audience, issuer, expiry) refused."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("token missing or too long")
    settings = get_settings()
    try:
        claims = jwt.decode(token, signing_key(), algorithms=[ALGORITHM],
                            audience=settings.jwt_audience, issuer=settings.jwt_issuer,
                            options={"require": list(REQUIRED_CLAIMS), "verify_signature": True})
    except jwt.PyJWTError as e:
        raise InvalidToken(type(e).__name__) from e
    if not all(isinstance(claims.get(c), str) and claims[c] for c in ("sub", "sid", "jti")):
        raise InvalidToken("malformed claims")
    return claims


def opaque_secret() -> str:
    """A random, URL-safe secret of 256 bits."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """SHA-256 hex of a high-entropy secret (what the database stores instead of it)."""
    return hashlib.sha256(secret.encode()).hexdigest()

"""What a credential must look like and how an access token is verified: the standard library
and PyJWT only, so the lean authorizer shares these rules without loading settings or SQL."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

import jwt

ALGORITHM = "HS256"
# API keys are `pyat_<8 hex>_<43 url-safe>` (the prefix tells the authorizer the kind);
# anything else is never looked up.
API_KEY_SHAPE = re.compile(r"^pyat_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$")
REQUIRED_CLAIMS = ("sub", "sid", "role", "iat", "exp", "iss", "aud", "jti")
MAX_TOKEN_LENGTH = 4096
_MIN_KEY_BYTES = 32
_BEARER = re.compile(r"^Bearer ([A-Za-z0-9_.~+/=-]+)$", re.IGNORECASE)


class InvalidToken(Exception):
    """The token is not one this deployment issued, or no longer valid."""


def hmac_key(secret_text: str) -> bytes:
    """The signing secret's text as the HMAC key, refused when too short to be safe."""
    key = secret_text.encode()
    if len(key) < _MIN_KEY_BYTES:
        raise RuntimeError("the JWT signing secret is too short")
    return key


def verified_claims(token: str, key: bytes, *, issuer: str,
                    audience: str | list[str]) -> dict[str, Any]:
    """The verified claims; anything else (other algorithm, audience, issuer, expiry) refused.
    Of several audiences, the token's must be one."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("token missing or too long")
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=audience,
                            issuer=issuer,
                            options={"require": list(REQUIRED_CLAIMS), "verify_signature": True})
    except jwt.PyJWTError as e:
        raise InvalidToken(type(e).__name__) from e
    if not all(isinstance(claims.get(c), str) and claims[c] for c in ("sub", "sid", "jti")):
        raise InvalidToken("malformed claims")
    return claims


def bearer(headers: dict[str, Any]) -> str | None:
    """The credential of `Authorization: Bearer <JWT or key>`, or None."""
    value = next((v for k, v in headers.items() if str(k).lower() == "authorization"), None)
    match = _BEARER.match(value.strip()) if isinstance(value, str) and value else None
    return match.group(1) if match else None


def is_jwt(credential: str) -> bool:
    """A JWT is three dot-separated parts; an API key has none (its shape is checked apart)."""
    return credential.count(".") == 2


def digest(secret: str) -> str:
    """SHA-256 hex of a high-entropy secret (what the database stores instead of it)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def opaque_secret() -> str:
    """A random, URL-safe secret of 256 bits."""
    return secrets.token_urlsafe(32)

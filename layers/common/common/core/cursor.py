"""Opaque keyset cursors: base64url of a small JSON list."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from common.core.clock import as_utc
from common.core.errors import ValidationFailed


def encode(*values: Any) -> str:
    """A cursor carrying `values`."""
    raw = json.dumps(list(values), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, size: int) -> list[Any]:
    """The values of a cursor made by `encode`; anything else is a 422."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError) as e:
        raise _invalid() from e
    if not isinstance(values, list) or len(values) != size \
            or not all(isinstance(v, str) for v in values):
        raise _invalid()
    return values


def instant(stamp: str) -> datetime:
    """The timestamp a cursor carried (as `encode` wrote it), aware UTC; anything else is a 422."""
    try:
        return as_utc(datetime.fromisoformat(stamp))
    except ValueError as e:
        raise _invalid() from e


def _invalid() -> ValidationFailed:
    return ValidationFailed("The cursor is not valid.",
                            details=[{"field": "cursor", "problem": "not a cursor from this API"}])

"""Airtable-style identifiers: a three-letter prefix plus 14 alphanumerics."""

from __future__ import annotations

import secrets
import string

ALPHANUMERICS = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    """Return a fresh id such as `recA1b2C3d4E5f6G7` for the given prefix."""
    return prefix + "".join(secrets.choice(ALPHANUMERICS) for _ in range(14))

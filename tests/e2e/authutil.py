"""Helpers for the auth/users end-to-end tests (accounts with unique emails)."""

from __future__ import annotations

import uuid
from typing import Any

import requests

PASSWORD = "Correct-Horse-Battery-9"


def unique_email(tag: str = "user") -> str:
    """An email no other test uses."""
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


def register(api: requests.Session, email: str | None = None, password: str = PASSWORD,
             **extra: Any) -> dict[str, Any]:
    """Register and return the token body (asserting 201)."""
    response = api.post("/api/auth/register",
                        json={"email": email or unique_email(), "password": password, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for an access token."""
    return {"Authorization": f"Bearer {token}"}

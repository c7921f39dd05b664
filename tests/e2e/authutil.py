"""Helpers for the auth/users end-to-end tests (accounts with unique emails, emailed links)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import requests

from tests.e2e.mailbox import token_from

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


def verify(api: requests.Session, mail_dir: Path, address: str) -> dict[str, Any]:
    """Verify `address` with the link of its newest verification email; the user body."""
    response = api.post("/api/auth/verify-email",
                        json={"token": token_from(mail_dir, address, "/verify-email")})
    assert response.status_code == 200, response.text
    return response.json()


def register_verified(api: requests.Session, mail_dir: Path, email: str | None = None,
                      password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
    """Register, verify the email from the mail folder, sign in again (the role may change)."""
    email = email or unique_email()
    register(api, email, password, **extra)
    verify(api, mail_dir, email)
    response = api.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def admin_login(api: requests.Session, mail_dir: Path, email: str,
                password: str = PASSWORD) -> dict[str, Any]:
    """Tokens of the admin listed as `email` (registered and verified on first use)."""
    response = api.post("/api/auth/login", json={"email": email, "password": password})
    if response.status_code == 401:
        return register_verified(api, mail_dir, email, password)
    assert response.status_code == 200, response.text
    body = response.json()
    if not body["user"]["email_verified"]:
        resent = api.post("/api/auth/verify-email/resend", headers=bearer(body["access_token"]))
        assert resent.status_code == 202, resent.text
        verify(api, mail_dir, email)
        body = api.post("/api/auth/login", json={"email": email, "password": password}).json()
    return body

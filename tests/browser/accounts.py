"""A new member signed in through the login page, with the API headers of the same account."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import requests

from tests.browser.conftest import ADMIN_EMAIL
from tests.e2e.mailbox import token_from
from tests.helpers import wait_for

PASSWORD = "Correct-Horse-Battery-9"


@dataclass
class Account:
    """A registered member: its email and an Authorization header for direct API calls."""

    email: str
    headers: dict[str, str]


def sign_in(watched, email: str) -> None:
    """Sign in on the login page and wait for the dashboard."""
    watched.go("/login")
    watched.page.get_by_label("Email or username").fill(email)
    watched.page.get_by_label("Password").fill(PASSWORD)
    watched.page.get_by_role("button", name="Sign in").click()
    watched.page.get_by_role("heading", name="Dashboard").wait_for()


def new_member(watched, stack, prefix: str) -> Account:
    """Register a member through the API, then sign it in on `watched`'s page."""
    email = f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"
    registered = requests.post(f"{stack.url}/api/auth/register", timeout=60,
                               json={"email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    login = requests.post(f"{stack.url}/api/auth/login", timeout=60,
                          json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    sign_in(watched, email)
    return Account(email, {"Authorization": f"Bearer {login.json()['access_token']}"})


def demo_base_id(stack, account: Account) -> str:
    """The id of the member's Demo CRM base (onboarding connects it shortly after sign-up)."""
    def found() -> str | None:
        bases = requests.get(f"{stack.url}/api/airtable/bases", headers=account.headers,
                             timeout=60)
        assert bases.status_code == 200, bases.text
        return next((b["id"] for b in bases.json()["items"] if b["name"] == "Demo CRM"), None)

    return wait_for(found, timeout=60, interval=0.5)


def verified_admin(stack) -> str:
    """ADMIN_EMAIL registered and verified (the admin role comes with verification)."""
    login = requests.post(f"{stack.url}/api/auth/login", timeout=60,
                          json={"email": ADMIN_EMAIL, "password": PASSWORD})
    if login.status_code == 200 and login.json()["user"]["role"] == "admin":
        return ADMIN_EMAIL
    registered = requests.post(f"{stack.url}/api/auth/register", timeout=60,
                               json={"email": ADMIN_EMAIL, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    verified = requests.post(f"{stack.url}/api/auth/verify-email", timeout=60, json={
        "token": token_from(stack.mail_dir, ADMIN_EMAIL, "/verify-email")})
    assert verified.status_code == 200, verified.text
    return ADMIN_EMAIL

"""What a user of a stack does first, over HTTP only: health, registration and sign-in, a
workspace, an API key, and a record read through an Airtable connection when there is one.

Every request goes to `base_url`; nothing here reads the stack's database, queues or logs, so
the same tests run against a deployed stack. An account of one's own is registered unless
PYAIRTABLE_EMAIL and PYAIRTABLE_PASSWORD name one (a stack whose registration is by invitation).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.services import http_services

PASSWORD = "Deployed-Stack-Check-7"


class Client(requests.Session):
    """A session whose relative URLs go to the stack."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        super().__init__()
        self.base_url = base_url
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        kwargs.setdefault("timeout", 30)
        return super().request(method, self.base_url + url, *args, **kwargs)


@pytest.fixture(scope="module")
def anonymous(base_url: str) -> Iterator[Client]:
    """No credentials."""
    with Client(base_url) as client:
        yield client


@pytest.fixture(scope="module")
def account(anonymous: Client) -> Iterator[dict[str, Any]]:
    """An account's email, password and tokens: a new one, deactivated afterwards, or the one
    PYAIRTABLE_EMAIL / PYAIRTABLE_PASSWORD name."""
    given = os.environ.get("PYAIRTABLE_EMAIL"), os.environ.get("PYAIRTABLE_PASSWORD")
    if all(given):
        email, password = given
        signed_in = anonymous.post("/api/auth/login", json={"email": email, "password": password})
        assert signed_in.status_code == 200, signed_in.text
        yield {"email": email, "password": password, "registered": False, **signed_in.json()}
        return
    email, password = f"http-check-{uuid.uuid4().hex[:12]}@example.com", PASSWORD
    registered = anonymous.post("/api/auth/register", json={"email": email, "password": password})
    if registered.status_code == 403:
        pytest.skip("this stack registers by invitation only: set PYAIRTABLE_EMAIL and "
                    "PYAIRTABLE_PASSWORD to an account of it")
    assert registered.status_code == 201, registered.text
    body = registered.json()
    yield {"email": email, "password": password, "registered": True, **body}
    # On a new connection (the session's own may have idled out on the server meanwhile); a
    # local stack may have stopped with its session already: then there is nothing to remove.
    with contextlib.suppress(requests.ConnectionError):
        requests.delete(f"{anonymous.base_url}/api/users/me", timeout=30,
                        headers={"Authorization": f"Bearer {body['access_token']}"})


@pytest.fixture(scope="module")
def signed_in(base_url: str, account: dict[str, Any]) -> Iterator[Client]:
    """The account's access token on every request."""
    with Client(base_url, account["access_token"]) as client:
        yield client


def test_the_stack_is_healthy_and_runs_the_services_of_the_template(anonymous):
    health = anonymous.get("/api/health")
    assert health.status_code == 200, health.text
    assert health.json()["status"] == "healthy"
    info = anonymous.get("/api/platform/info").json()
    assert sorted(info["services"]) == sorted(http_services())
    for service in info["services"]:
        own = anonymous.get(f"/api/{service}/health")
        assert own.status_code == 200, (service, own.text)
        assert own.json()["service"] == service


def test_a_new_account_signs_in_with_its_password_and_nothing_else(anonymous, account):
    if account["registered"]:
        assert account["user"]["email"] == account["email"]
        assert account["user"]["email_verified"] is False
    login = anonymous.post("/api/auth/login",
                           json={"email": account["email"], "password": account["password"]})
    assert login.status_code == 200, login.text
    me = anonymous.get("/api/auth/me",
                       headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    assert me.status_code == 200 and me.json()["email"] == account["email"]
    wrong = anonymous.post("/api/auth/login",
                           json={"email": account["email"], "password": "not-" + PASSWORD})
    assert wrong.status_code == 401
    assert anonymous.get("/api/auth/me").status_code == 401


def test_a_workspace_is_created_listed_and_deleted_by_its_owner(signed_in):
    name = f"HTTP check {uuid.uuid4().hex[:6]}"
    created = signed_in.post("/api/workspaces", json={"name": name})
    assert created.status_code == 201, created.text
    workspace = created.json()
    try:
        listed = {w["id"]: w for w in signed_in.get("/api/workspaces").json()["items"]}
        assert listed[workspace["id"]]["name"] == name
        assert listed[workspace["id"]]["role"] == "owner"
    finally:
        deleted = signed_in.delete(f"/api/workspaces/{workspace['id']}")
    assert deleted.status_code == 204, deleted.text
    assert signed_in.get(f"/api/workspaces/{workspace['id']}").status_code == 404


def test_an_api_key_authenticates_until_it_is_revoked(base_url, signed_in):
    made = signed_in.post("/api/auth/api-keys", json={"name": "http check",
                                                      "expires_in_days": 1})
    assert made.status_code == 201, made.text
    key = made.json()
    assert key["key"].startswith("pyat_")
    with Client(base_url, key["key"]) as by_key:
        assert by_key.get("/api/auth/me").status_code == 200
        assert signed_in.delete(f"/api/auth/api-keys/{key['id']}").status_code == 204
        # The authorizer refuses a revoked key: API Gateway's 403 (API.md, Conventions).
        assert by_key.get("/api/auth/me").status_code == 403


def test_a_record_is_read_through_an_airtable_connection(signed_in):
    bases = signed_in.get("/api/airtable/bases")
    assert bases.status_code == 200, bases.text
    if not bases.json()["items"]:
        pytest.skip("no Airtable connection of this stack reaches a base for this account")
    base = bases.json()["items"][0]
    schema = signed_in.get(f"/api/airtable/bases/{base['id']}/schema")
    assert schema.status_code == 200, schema.text
    table = schema.json()["tables"][0]
    page = signed_in.get(f"/api/airtable/bases/{base['id']}/tables/{table['id']}/records",
                         params={"page_size": 1})
    assert page.status_code == 200, page.text
    records = page.json()["records"]
    if not records:
        pytest.skip(f"the first table of base {base['id']} is empty")
    one = signed_in.get(
        f"/api/airtable/bases/{base['id']}/tables/{table['id']}/records/{records[0]['id']}")
    assert one.status_code == 200, one.text
    assert one.json()["id"] == records[0]["id"]
    assert one.json()["fields"] == records[0]["fields"]

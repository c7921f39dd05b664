"""The deployed default, DEFAULT_CONNECTION=admins: only workspace membership grants Airtable.

Run in a process of its own by tests/e2e/test_tenancy.py (one local stack per process).
"""

from __future__ import annotations

import pytest

from tests.e2e.authutil import PASSWORD, bearer, register, unique_email
from tests.e2e.conftest import ADMIN_EMAIL
from tests.e2e.mailbox import token_from


def _verified(api, stack, email=None):
    email = email or unique_email("tenant")
    body = register(api, email)
    token = token_from(stack.mail_dir, email, "/verify-email")
    assert api.post("/api/auth/verify-email", json={"token": token}).status_code == 200
    signed_in = api.post("/api/auth/login", json={"email": email, "password": PASSWORD}).json()
    return {"id": body["user"]["id"], "email": email, "role": signed_in["user"]["role"],
            "headers": bearer(signed_in["access_token"])}


@pytest.fixture(scope="module")
def admin(api, stack):
    return _verified(api, stack, ADMIN_EMAIL)


def _records(stack):
    return f"/api/airtable/bases/{stack.demo_base_id}/tables/Contacts/records"


def test_a_fresh_member_sees_no_base_and_the_demo_base_is_not_found(api, stack):
    member = _verified(api, stack)
    assert api.get("/api/airtable/bases", headers=member["headers"]).json()["items"] == []
    assert api.get("/api/airtable/connections", headers=member["headers"]).json()["items"] == []
    response = api.get(_records(stack), headers=member["headers"])
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_only_an_admin_attaches_the_deployment_connection(api, stack, admin):
    member = _verified(api, stack)
    refused = api.post("/api/airtable/connections", headers=member["headers"],
                       json={"name": "Sneaky", "use_default": True})
    assert refused.status_code == 403


def test_roles_in_the_workspace_decide_reads_and_writes(api, stack, admin):
    assert admin["role"] == "admin"
    team = api.post("/api/workspaces", json={"name": "Sales"}, headers=admin["headers"]).json()
    attached = api.post("/api/airtable/connections", headers=admin["headers"],
                        json={"name": "Company Airtable", "use_default": True,
                              "workspace_id": team["id"]})
    assert attached.status_code == 201, attached.text
    member = _verified(api, stack)
    invited = api.post(f"/api/workspaces/{team['id']}/invitations", headers=admin["headers"],
                       json={"email": member["email"], "role": "viewer"})
    assert invited.status_code == 201
    token = token_from(stack.mail_dir, member["email"], "/invitations/accept")
    assert api.post("/api/workspaces/invitations/accept", json={"token": token},
                    headers=member["headers"]).status_code == 200

    bases = api.get("/api/airtable/bases", headers=member["headers"]).json()["items"]
    assert [(b["id"], b["connection_id"]) for b in bases] == [
        (stack.demo_base_id, attached.json()["id"])]
    assert api.get(_records(stack), headers=member["headers"]).status_code == 200
    write = {"records": [{"fields": {"Name": "From a viewer"}}]}
    refused = api.post(_records(stack), json=write, headers=member["headers"])
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"

    promoted = api.patch(f"/api/workspaces/{team['id']}/members/{member['id']}",
                         json={"role": "editor"}, headers=admin["headers"])
    assert promoted.status_code == 200
    created = api.post(_records(stack), json=write, headers=member["headers"])
    assert created.status_code == 201, created.text

    outsider = _verified(api, stack)
    assert api.get("/api/airtable/bases", headers=outsider["headers"]).json()["items"] == []
    assert attached.json()["id"] not in api.get("/api/airtable/connections",
                                                headers=outsider["headers"]).text
    # The member's read is cached now; the cache must not answer someone outside the workspace.
    api.get(_records(stack), headers=member["headers"])
    assert api.get(_records(stack), headers=member["headers"]).headers["X-Cache"] == "HIT"
    assert api.get(_records(stack), headers=outsider["headers"]).status_code == 404
    assert api.get(_records(stack), headers=outsider["headers"],
                   params={"connection_id": attached.json()["id"]}).status_code == 404

    removed = api.delete(f"/api/workspaces/{team['id']}/members/{member['id']}",
                         headers=admin["headers"])
    assert removed.status_code == 204
    assert api.get(_records(stack), headers=member["headers"]).status_code == 404
    assert api.get("/api/airtable/bases", headers=member["headers"]).json()["items"] == []

"""Workspaces over HTTP: roles decide what a member may do; outsiders learn nothing (404)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.authutil import PASSWORD, bearer, register, unique_email
from tests.e2e.mailbox import messages_to, token_from


def _user(api, stack=None, verified=False):
    email = unique_email("ws")
    body = register(api, email)
    headers = bearer(body["access_token"])
    if verified:
        token = token_from(stack.mail_dir, email, "/verify-email")
        assert api.post("/api/auth/verify-email", json={"token": token}).status_code == 200
    return {"email": email, "id": body["user"]["id"], "headers": headers}


@pytest.fixture
def owner(api):
    return _user(api)


@pytest.fixture(scope="module")
def admin_headers(api, stack):
    """The listed admin, signed in after verifying the email (admin needs a verified email)."""
    from tests.e2e.conftest import ADMIN_EMAIL

    credentials = {"email": ADMIN_EMAIL, "password": PASSWORD}
    signed_in = api.post("/api/auth/login", json=credentials)
    if signed_in.status_code == 401:
        signed_in = api.post("/api/auth/register", json=credentials)
    body = signed_in.json()
    if body["user"]["role"] != "admin":
        api.post("/api/auth/verify-email/resend", headers=bearer(body["access_token"]))
        token = token_from(stack.mail_dir, ADMIN_EMAIL, "/verify-email")
        assert api.post("/api/auth/verify-email", json={"token": token}).status_code == 200
        body = api.post("/api/auth/login", json=credentials).json()
    assert body["user"]["role"] == "admin"
    return bearer(body["access_token"])


def _workspace(api, owner, name="Team"):
    response = api.post("/api/workspaces", json={"name": name}, headers=owner["headers"])
    assert response.status_code == 201, response.text
    return response.json()


def _invite_and_join(api, stack, owner, workspace_id, role):
    member = _user(api, stack, verified=True)
    invited = api.post(f"/api/workspaces/{workspace_id}/invitations", headers=owner["headers"],
                       json={"email": member["email"].upper(), "role": role})
    assert invited.status_code == 201, invited.text
    token = token_from(stack.mail_dir, member["email"], "/invitations/accept")
    joined = api.post("/api/workspaces/invitations/accept", json={"token": token},
                      headers=member["headers"])
    assert joined.status_code == 200, joined.text
    assert joined.json()["role"] == role
    return member


def test_registration_makes_a_personal_workspace_owned_by_the_new_user(api, owner):
    items = api.get("/api/workspaces", headers=owner["headers"]).json()["items"]
    assert [(w["name"], w["personal"], w["role"]) for w in items] == [("Personal", True, "owner")]


def test_the_creator_owns_a_new_workspace_and_can_rename_and_delete_it(api, owner):
    workspace = _workspace(api, owner)
    assert (workspace["role"], workspace["personal"]) == ("owner", False)
    url = f"/api/workspaces/{workspace['id']}"
    renamed = api.patch(url, json={"name": "Renamed"}, headers=owner["headers"])
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"
    assert api.delete(url, headers=owner["headers"]).status_code == 204
    assert api.get(url, headers=owner["headers"]).status_code == 404


def test_a_personal_workspace_cannot_be_deleted(api, owner):
    personal = api.get("/api/workspaces", headers=owner["headers"]).json()["items"][0]
    response = api.delete(f"/api/workspaces/{personal['id']}", headers=owner["headers"])
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"


def test_outsiders_get_404_for_every_workspace_route(api, owner):
    workspace = _workspace(api, owner)
    outsider = _user(api)["headers"]
    base = f"/api/workspaces/{workspace['id']}"
    for response in (api.get(base, headers=outsider),
                     api.patch(base, json={"name": "x"}, headers=outsider),
                     api.delete(base, headers=outsider),
                     api.get(base + "/members", headers=outsider),
                     api.post(base + "/invitations", json={"email": "a@example.com"},
                              headers=outsider)):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"


def test_the_last_owner_can_neither_leave_nor_be_demoted(api, owner):
    workspace = _workspace(api, owner)
    base = f"/api/workspaces/{workspace['id']}/members/{owner['id']}"
    demoted = api.patch(base, json={"role": "editor"}, headers=owner["headers"])
    left = api.delete(base, headers=owner["headers"])
    assert demoted.status_code == left.status_code == 409
    assert "at least one owner" in left.json()["error"]["message"]


def test_an_invited_viewer_reads_but_cannot_manage_and_can_leave(api, stack, owner):
    workspace = _workspace(api, owner)
    viewer = _invite_and_join(api, stack, owner, workspace["id"], "viewer")
    base = f"/api/workspaces/{workspace['id']}"
    members = api.get(base + "/members", headers=viewer["headers"])
    assert members.status_code == 200
    assert {(m["email"], m["role"]) for m in members.json()["items"]} == {
        (owner["email"], "owner"), (viewer["email"], "viewer")}
    for response in (api.patch(base, json={"name": "x"}, headers=viewer["headers"]),
                     api.post(base + "/invitations", json={"email": unique_email()},
                              headers=viewer["headers"]),
                     api.patch(f"{base}/members/{owner['id']}", json={"role": "viewer"},
                               headers=viewer["headers"])):
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "forbidden"
    assert api.delete(f"{base}/members/{viewer['id']}", headers=viewer["headers"]).status_code \
        == 204
    assert api.get(base, headers=viewer["headers"]).status_code == 404


def test_an_invitation_is_single_use_and_only_for_the_invited_email(api, stack, owner):
    workspace = _workspace(api, owner)
    invitee = _user(api, stack, verified=True)
    api.post(f"/api/workspaces/{workspace['id']}/invitations", headers=owner["headers"],
             json={"email": invitee["email"], "role": "editor"})
    token = token_from(stack.mail_dir, invitee["email"], "/invitations/accept")
    stranger = _user(api, stack, verified=True)
    wrong = api.post("/api/workspaces/invitations/accept", json={"token": token},
                     headers=stranger["headers"])
    assert wrong.status_code == 403
    assert api.post("/api/workspaces/invitations/accept", json={"token": token},
                    headers=invitee["headers"]).status_code == 200
    again = api.post("/api/workspaces/invitations/accept", json={"token": token},
                     headers=invitee["headers"])
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_token"


def test_an_unverified_invitee_is_told_to_verify_the_email_first(api, stack, owner):
    workspace = _workspace(api, owner)
    invitee = _user(api)
    api.post(f"/api/workspaces/{workspace['id']}/invitations", headers=owner["headers"],
             json={"email": invitee["email"], "role": "viewer"})
    token = token_from(stack.mail_dir, invitee["email"], "/invitations/accept")
    response = api.post("/api/workspaces/invitations/accept", json={"token": token},
                        headers=invitee["headers"])
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["message"].startswith("Verify your email address first")
    assert error["details"] == [{"field": "email", "problem": "not verified"}]


def test_the_invitation_link_names_the_workspace_role_and_email_for_a_newcomer(api, stack,
                                                                               owner):
    workspace = _workspace(api, owner, name="Design & Research")
    email = unique_email("newcomer")
    api.post(f"/api/workspaces/{workspace['id']}/invitations", headers=owner["headers"],
             json={"email": email, "role": "editor"})
    token = token_from(stack.mail_dir, email, "/invitations/accept")
    text = messages_to(stack.mail_dir, email)[-1].get_body(("plain",)).get_content()
    link = next(line for line in text.splitlines() if "/invitations/accept?" in line)
    query = parse_qs(urlsplit(link.strip()).query)
    assert query == {"token": [token], "workspace": ["Design & Research"],
                     "workspace_id": [workspace["id"]], "role": ["editor"], "email": [email]}


def test_membership_changes_are_in_the_audit_log(api, stack, owner, admin_headers):
    workspace = _workspace(api, owner)
    member = _invite_and_join(api, stack, owner, workspace["id"], "viewer")
    api.patch(f"/api/workspaces/{workspace['id']}/members/{member['id']}",
              json={"role": "editor"}, headers=owner["headers"])
    actions = [e["action"] for e in api.get("/api/platform/audit", headers=admin_headers,
                                            params={"actor_id": owner["id"], "limit": 50})
               .json()["items"]]
    assert {"workspace.created", "invitation.created", "member.role_changed"} <= set(actions)

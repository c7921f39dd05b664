"""Users over real HTTP: profiles, self-deactivation, admin listing and changes, the audit log."""

from __future__ import annotations

import pytest

from tests.e2e.authutil import PASSWORD, admin_login, bearer, register, unique_email
from tests.e2e.conftest import ADMIN_EMAIL
from tests.helpers import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def admin(api, stack):
    body = admin_login(api, stack.mail_dir, ADMIN_EMAIL)  # admin needs a verified email
    assert body["user"]["role"] == "admin"
    return bearer(body["access_token"])


def test_profile_read_and_update(api):
    # Onboarding adds default preferences meanwhile (locale, timezone...): whichever commits
    # first, the keys the user set are kept and the ones they removed stay removed.
    user = register(api, first_name="Ada")
    headers = bearer(user["access_token"])
    me = api.get("/api/users/me", headers=headers).json()
    assert set(me) >= {"id", "email", "username", "first_name", "last_name", "role",
                       "preferences", "created_at"}
    patched = api.patch("/api/users/me", headers=headers,
                        json={"last_name": "Lovelace", "preferences": {"theme": "dark", "n": 1},
                              "role": "admin", "email": "hijack@example.com"})
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["last_name"] == "Lovelace" and body["first_name"] == "Ada"
    assert body["preferences"]["theme"] == "dark" and body["preferences"]["n"] == 1
    assert body["role"] == "member" and body["email"] == user["user"]["email"]
    again = api.patch("/api/users/me", headers=headers, json={"preferences": {"n": None}}).json()
    assert again["preferences"]["theme"] == "dark" and "n" not in again["preferences"]
    settled = wait_for(lambda: _onboarded(api, headers))
    assert settled["theme"] == "dark" and "n" not in settled and settled["locale"] == "en"


def _onboarded(api, headers):
    preferences = api.get("/api/users/me", headers=headers).json()["preferences"]
    return preferences if "onboarding" in preferences else None


def test_profile_username_must_be_unique(api):
    taken = f"taken_{unique_email()[5:15]}"
    register(api, username=taken)
    other = register(api)
    response = api.patch("/api/users/me", headers=bearer(other["access_token"]),
                         json={"username": taken})
    assert response.status_code == 409


def test_self_deactivation_revokes_everything_and_blocks_login(api):
    email = unique_email()
    user = register(api, email)
    other = api.post("/api/auth/login", json={"email": email, "password": PASSWORD}).json()
    key = api.post("/api/auth/api-keys", headers=bearer(user["access_token"]),
                   json={"name": "k"}).json()["key"]
    assert api.delete("/api/users/me", headers=bearer(user["access_token"])).status_code == 204
    for headers in (bearer(user["access_token"]), bearer(other["access_token"]),
                    bearer(key)):
        assert api.get("/api/users/me", headers=headers).status_code == 403
    assert api.post("/api/auth/refresh",
                    json={"refresh_token": other["refresh_token"]}).status_code == 401
    assert api.post("/api/auth/login",
                    json={"email": email, "password": PASSWORD}).status_code == 401


def test_members_get_403_on_admin_routes_and_cannot_reach_another_user(api):
    member, victim = register(api), register(api)
    headers = bearer(member["access_token"])
    victim_id = victim["user"]["id"]
    for method, path, body in [("get", "/api/users", None),
                               ("get", f"/api/users/{victim_id}", None),
                               ("patch", f"/api/users/{victim_id}", {"role": "member"}),
                               ("patch", f"/api/users/{member['user']['id']}", {"role": "admin"}),
                               ("get", "/api/platform/audit", None)]:
        response = api.request(method, path, headers=headers, json=body)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error"]["code"] == "forbidden"
    assert api.get("/api/users/me", headers=headers).json()["role"] == "member"


def test_admin_lists_searches_and_pages_users(api, admin):
    tag = unique_email("pager")[6:16]
    made = [register(api, f"pg{i}-{tag}@example.com")["user"]["id"] for i in range(3)]
    first = api.get("/api/users", headers=admin, params={"q": tag, "limit": 2})
    assert first.status_code == 200, first.text
    page = first.json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = api.get("/api/users", headers=admin,
                   params={"q": tag, "limit": 2, "cursor": page["next_cursor"]}).json()
    assert rest["next_cursor"] is None
    assert sorted(u["id"] for u in page["items"] + rest["items"]) == sorted(made)
    admins = api.get("/api/users", headers=admin, params={"role": "admin"}).json()["items"]
    assert ADMIN_EMAIL in [u["email"] for u in admins]
    assert all(u["role"] == "admin" for u in admins)
    assert api.get("/api/users", headers=admin, params={"limit": 500}).status_code == 422
    assert api.get("/api/users", headers=admin, params={"cursor": "!!"}).status_code == 422
    assert api.get("/api/users", headers=admin, params={"q": "%_"}).status_code == 200


def test_admin_changes_role_and_active_flag_and_changes_apply_at_once(api, admin):
    user = register(api)
    uid, headers = user["user"]["id"], bearer(user["access_token"])
    assert api.get(f"/api/users/{uid}", headers=admin).json()["email"] == user["user"]["email"]
    promoted = api.patch(f"/api/users/{uid}", headers=admin, json={"role": "admin"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    # The role comes from the database on every request, not from the token's claim.
    assert api.get("/api/users", headers=headers).status_code == 200
    assert api.patch(f"/api/users/{uid}", headers=admin, json={"role": "owner"}).status_code == 422
    deactivated = api.patch(f"/api/users/{uid}", headers=admin, json={"is_active": False})
    assert deactivated.status_code == 200 and deactivated.json()["is_active"] is False
    assert api.get("/api/users/me", headers=headers).status_code == 403
    assert api.get("/api/users/nosuchuser", headers=admin).status_code == 404


def test_admin_cannot_demote_themselves(api, admin):
    me = api.get("/api/users/me", headers=admin).json()
    response = api.patch(f"/api/users/{me['id']}", headers=admin, json={"role": "member"})
    assert response.status_code == 403


def test_audit_log_records_security_events(api, admin):
    email = unique_email()
    user = register(api, email)
    api.post("/api/auth/login", json={"email": email, "password": "wrong-password-1"})
    key = api.post("/api/auth/api-keys", headers=bearer(user["access_token"]),
                   json={"name": "audited"}).json()
    api.delete(f"/api/auth/api-keys/{key['id']}", headers=bearer(user["access_token"]))
    response = api.get("/api/platform/audit", headers=admin,
                       params={"actor_id": user["user"]["id"], "limit": 200})
    assert response.status_code == 200, response.text
    actions = {e["action"] for e in response.json()["items"]}
    assert {"user.registered", "user.login_failed", "api_key.created",
            "api_key.revoked"} <= actions
    page = api.get("/api/platform/audit", headers=admin, params={"limit": 1}).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    following = api.get("/api/platform/audit", headers=admin,
                        params={"limit": 1, "cursor": page["next_cursor"]}).json()
    assert following["items"][0]["id"] != page["items"][0]["id"]
    assert key["key"] not in response.text

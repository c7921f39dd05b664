"""Auth over real HTTP: register, login, refresh rotation, logout, sessions, API keys, lock-out."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.e2e.authutil import PASSWORD, admin_login, bearer, register, unique_email
from tests.e2e.conftest import ADMIN_EMAIL
from tests.helpers import worker_log

pytestmark = pytest.mark.e2e


def test_register_login_validate_refresh_logout_then_both_tokens_are_rejected(api):
    email = unique_email()
    registered = register(api, email, username=f"u{email[5:17]}", first_name="Ada")
    assert registered["token_type"] == "bearer" and registered["expires_in"] == 900
    assert registered["user"]["email"] == email and registered["user"]["role"] == "member"
    assert "password_hash" not in registered["user"]

    login = api.post("/api/auth/login", json={"email": email.upper(), "password": PASSWORD})
    assert login.status_code == 200, login.text
    tokens = login.json()
    validate = api.get("/api/auth/validate", headers=bearer(tokens["access_token"]))
    assert validate.status_code == 200, validate.text
    body = validate.json()
    assert body["valid"] is True and body["user"]["id"] == registered["user"]["id"]
    assert body["session_id"] and body["expires_at"]

    refreshed = api.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    pair = refreshed.json()
    assert pair["refresh_token"] != tokens["refresh_token"]
    assert api.get("/api/auth/me", headers=bearer(pair["access_token"])).status_code == 200

    logout = api.post("/api/auth/logout", headers=bearer(pair["access_token"]),
                      json={"refresh_token": pair["refresh_token"]})
    assert logout.status_code == 204, logout.text
    assert api.get("/api/auth/validate", headers=bearer(pair["access_token"])).status_code == 403
    assert api.get("/api/auth/validate",
                   headers=bearer(tokens["access_token"])).status_code == 403
    again = api.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 401 and again.json()["error"]["code"] == "unauthorized"
    # The session of registration is separate and still alive.
    assert api.get("/api/auth/me", headers=bearer(registered["access_token"])).status_code == 200


def test_login_by_username(api):
    name = f"user_{unique_email()[5:17]}"
    register(api, username=name)
    response = api.post("/api/auth/login", json={"username": name.upper(), "password": PASSWORD})
    assert response.status_code == 200, response.text
    assert response.json()["user"]["username"] == name


def test_refresh_token_reuse_revokes_the_session(api):
    first = register(api)
    second = api.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()
    reuse = api.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    # The whole session is gone: the newest access and refresh tokens die too.
    assert api.get("/api/auth/me", headers=bearer(second["access_token"])).status_code == 403
    assert api.post("/api/auth/refresh",
                    json={"refresh_token": second["refresh_token"]}).status_code == 401


def test_password_change_revokes_other_sessions(api):
    email = unique_email()
    current = register(api, email)
    other = api.post("/api/auth/login", json={"email": email, "password": PASSWORD}).json()
    new_password = "An0ther-Long-Passphrase"
    wrong = api.post("/api/auth/password", headers=bearer(current["access_token"]),
                     json={"current_password": "not-the-password", "new_password": new_password})
    assert wrong.status_code == 422
    assert wrong.json()["error"]["details"][0]["field"] == "current_password"
    changed = api.post("/api/auth/password", headers=bearer(current["access_token"]),
                       json={"current_password": PASSWORD, "new_password": new_password})
    assert changed.status_code == 204, changed.text
    assert api.get("/api/auth/me", headers=bearer(current["access_token"])).status_code == 200
    assert api.get("/api/auth/me", headers=bearer(other["access_token"])).status_code == 403
    assert api.post("/api/auth/refresh",
                    json={"refresh_token": other["refresh_token"]}).status_code == 401
    old = api.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert old.status_code == 401
    assert api.post("/api/auth/login",
                    json={"email": email, "password": new_password}).status_code == 200


def test_sessions_are_listed_and_revocable_only_by_their_owner(api):
    email = unique_email()
    mine = register(api, email)
    second = api.post("/api/auth/login", json={"email": email, "password": PASSWORD},
                      headers={"User-Agent": "second-device"}).json()
    listed = api.get("/api/auth/sessions", headers=bearer(mine["access_token"])).json()
    assert len(listed["items"]) == 2 and listed["next_cursor"] is None
    current = [s for s in listed["items"] if s["current"]]
    target = next(s for s in listed["items"] if not s["current"])
    assert len(current) == 1 and target["user_agent"] == "second-device" and target["ip"]

    stranger = register(api)
    refused = api.delete(f"/api/auth/sessions/{target['id']}",
                         headers=bearer(stranger["access_token"]))
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    revoked = api.delete(f"/api/auth/sessions/{target['id']}", headers=bearer(mine["access_token"]))
    assert revoked.status_code == 204
    assert api.get("/api/auth/me", headers=bearer(second["access_token"])).status_code == 403


def test_api_key_works_until_revoked_and_is_shown_once(api):
    user = register(api)
    created = api.post("/api/auth/api-keys", headers=bearer(user["access_token"]),
                       json={"name": "ci", "expires_in_days": 30})
    assert created.status_code == 201, created.text
    key = created.json()
    assert key["key"].startswith(key["prefix"] + "_") and key["name"] == "ci"
    assert key["prefix"].startswith("pyat_")
    me = api.get("/api/auth/me", headers=bearer(key["key"]))
    assert me.status_code == 200 and me.json()["id"] == user["user"]["id"]
    validate = api.get("/api/auth/validate", headers=bearer(key["key"])).json()
    assert validate["session_id"] is None and validate["expires_at"]

    listed = api.get("/api/auth/api-keys", headers=bearer(user["access_token"])).json()
    assert [k["id"] for k in listed["items"]] == [key["id"]]
    assert "key" not in listed["items"][0] and key["key"] not in str(listed)
    # A key cannot mint keys: a leaked key must not outlive its own revocation.
    assert api.post("/api/auth/api-keys", headers=bearer(key["key"]),
                    json={"name": "x"}).status_code == 403

    stranger = register(api)
    assert api.delete(f"/api/auth/api-keys/{key['id']}",
                      headers=bearer(stranger["access_token"])).status_code == 404
    assert api.delete(f"/api/auth/api-keys/{key['id']}",
                      headers=bearer(user["access_token"])).status_code == 204
    assert api.get("/api/auth/me", headers=bearer(key["key"])).status_code == 403


@pytest.mark.parametrize(("body", "field"), [
    ({"password": "Long-enough-password-1"}, "email"),
    ({"email": "not-an-email", "password": "Long-enough-password-1"}, "email"),
    ({"email": "short@example.com", "password": "Sh0rt!"}, "password"),
    ({"email": "common@example.com", "password": "password1234"}, "password"),
    ({"email": "samemail@example.com", "password": "samemail@example.com"}, "password"),
    ({"email": "nopass@example.com"}, "password"),
])
def test_register_rejects_bad_input_with_field_details(api, body, field):
    response = api.post("/api/auth/register", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in [d["field"] for d in error["details"]]


def test_register_ignores_unknown_fields_and_never_trusts_a_sent_role(api):
    body = register(api, role="admin", is_active=False, whatever=1)
    assert body["user"]["role"] == "member" and body["user"]["is_active"] is True


def test_register_rejects_non_json_and_non_object_bodies(api):
    assert api.post("/api/auth/register", data="{nope",
                    headers={"Content-Type": "application/json"}).status_code == 422
    assert api.post("/api/auth/register", json=["a"]).status_code == 422
    assert api.post("/api/auth/login", json={"password": "x"}).status_code == 422


def test_duplicate_email_and_username_conflict(api):
    email, name = unique_email(), f"dup_{unique_email()[5:15]}"
    register(api, email, username=name)
    assert api.post("/api/auth/register",
                    json={"email": email.upper(), "password": PASSWORD}).status_code == 409
    dup = api.post("/api/auth/register",
                   json={"email": unique_email(), "password": PASSWORD, "username": name.upper()})
    assert dup.status_code == 409 and dup.json()["error"]["code"] == "conflict"


def test_unknown_user_and_wrong_password_get_the_same_answer(api):
    email = unique_email()
    register(api, email)
    wrong = api.post("/api/auth/login", json={"email": email, "password": "wrong-password-1"})
    unknown = api.post("/api/auth/login",
                       json={"email": unique_email(), "password": "wrong-password-1"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]


def test_repeated_failures_lock_the_account_out_with_retry_after(api):
    email = unique_email()
    register(api, email)
    statuses = [api.post("/api/auth/login", json={"email": email, "password": f"wrong-{i}-xyz"})
                .status_code for i in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    locked = api.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert locked.json()["error"]["code"] == "rate_limited"
    # An account that does not exist locks out the same way.
    ghost = unique_email()
    ghost_statuses = [api.post("/api/auth/login", json={"email": ghost, "password": "nope-nope-1"})
                      .status_code for _ in range(6)]
    assert ghost_statuses == [401, 401, 401, 401, 429, 429]


def test_thirty_parallel_wrong_logins_try_at_most_five_passwords(api, stack):
    email = unique_email("race")
    user = register(api, email)["user"]

    def attempt(i: int) -> int:
        return api.post("/api/auth/login",
                        json={"email": email, "password": f"wrong-{i}-guess"}).status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(attempt, range(30)))
    # Four failures answer 401; the fifth locks the account (429), the rest are refused unseen.
    assert sorted(statuses) == [401] * 4 + [429] * 26
    admin = bearer(admin_login(api, stack.mail_dir, ADMIN_EMAIL)["access_token"])
    checked = api.get("/api/platform/audit", headers=admin,
                      params={"action": "user.login_failed", "actor_id": user["id"]}).json()
    assert len(checked["items"]) == 5


def test_api_keys_expire_after_90_days_by_default_and_at_most_365(api):
    headers = bearer(register(api)["access_token"])
    key = api.post("/api/auth/api-keys", headers=headers, json={"name": "default"}).json()
    created = datetime.now(UTC)
    expires = datetime.fromisoformat(key["expires_at"])
    assert abs((expires - created) - timedelta(days=90)) < timedelta(minutes=5)
    too_long = api.post("/api/auth/api-keys", headers=headers,
                        json={"name": "forever", "expires_in_days": 366})
    assert too_long.status_code == 422
    assert api.post("/api/auth/api-keys", headers=headers,
                    json={"name": "year", "expires_in_days": 365}).status_code == 201


def test_refresh_with_garbage_is_401_envelope(api):
    response = api.post("/api/auth/refresh", json={"refresh_token": "garbage"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"


def test_private_routes_without_credentials_get_401(api):
    response = api.get("/api/auth/me")
    assert response.status_code == 401 and response.json() == {"message": "Unauthorized"}


def test_secrets_never_appear_in_logs(api, stack):
    body = register(api)
    pair = api.post("/api/auth/refresh", json={"refresh_token": body["refresh_token"]}).json()
    key = api.post("/api/auth/api-keys", headers=bearer(pair["access_token"]),
                   json={"name": "log-check"}).json()["key"]
    api.get("/api/auth/me", headers=bearer(key))
    api.post("/api/auth/login", json={"email": body["user"]["email"], "password": "wrong-pass-12"})
    log = worker_log(stack)
    assert log  # the functions did log something
    for secret in (PASSWORD, body["refresh_token"], pair["refresh_token"], key,
                   body["access_token"], "$argon2id$", "wrong-pass-12"):
        assert secret not in log


def test_no_hash_in_any_user_body(api):
    body = register(api)
    for path in ("/api/auth/me", "/api/users/me", "/api/auth/validate"):
        text = api.get(path, headers=bearer(body["access_token"])).text
        assert "argon2" not in text and "password" not in text


def test_health_stays_public(api: requests.Session):
    assert api.get("/api/auth/health").status_code == 200

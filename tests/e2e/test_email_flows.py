"""Emails over real HTTP: verification and reset links, read from the stack's mail folder."""

from __future__ import annotations

import pytest

from tests.e2e.authutil import PASSWORD, bearer, register, unique_email
from tests.e2e.mailbox import messages_to, token_from

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "Another-Long-Passphrase-7"


def test_registration_emails_a_link_that_verifies_the_email_once(api, stack):
    email = unique_email("verify")
    body = register(api, email.upper())
    assert body["user"]["email"] == email and body["user"]["email_verified"] is False
    [message] = messages_to(stack.mail_dir, email)
    text = message.get_body(("plain",)).get_content()
    assert f"{stack.web_url}/verify-email?token=" in text
    token = token_from(stack.mail_dir, email, "/verify-email")

    verified = api.post("/api/auth/verify-email", json={"token": token})
    assert verified.status_code == 200, verified.text
    assert verified.json()["id"] == body["user"]["id"] and verified.json()["email_verified"]
    me = api.get("/api/auth/me", headers=bearer(body["access_token"])).json()
    assert me["email_verified"] is True

    again = api.post("/api/auth/verify-email", json={"token": token})
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_token"
    forged = api.post("/api/auth/verify-email", json={"token": token[:-2] + "xx"})
    assert forged.status_code == 400 and forged.json()["error"]["code"] == "invalid_token"


def test_resend_sends_a_new_link_until_the_email_is_verified(api, stack):
    email = unique_email("resend")
    headers = bearer(register(api, email)["access_token"])
    first = token_from(stack.mail_dir, email, "/verify-email")
    resent = api.post("/api/auth/verify-email/resend", headers=headers)
    assert resent.status_code == 202, resent.text
    assert len(messages_to(stack.mail_dir, email)) == 2
    second = token_from(stack.mail_dir, email, "/verify-email")
    assert second != first
    assert api.post("/api/auth/verify-email", json={"token": second}).status_code == 200
    done = api.post("/api/auth/verify-email/resend", headers=headers)
    assert done.status_code == 409 and done.json()["error"]["code"] == "conflict"
    assert api.post("/api/auth/verify-email/resend").status_code == 401


def test_forgot_and_reset_by_email_revokes_every_session_and_api_key(api, stack):
    email = unique_email("reset")
    registered = register(api, email)
    other = api.post("/api/auth/login", json={"email": email, "password": PASSWORD}).json()
    key = api.post("/api/auth/api-keys", headers=bearer(registered["access_token"]),
                   json={"name": "ci"}).json()["key"]
    assert api.get("/api/auth/me", headers=bearer(key)).status_code == 200

    forgot = api.post("/api/auth/password/forgot", json={"email": email.upper()})
    assert forgot.status_code == 202, forgot.text
    token = token_from(stack.mail_dir, email, "/reset-password")
    assert f"{stack.web_url}/reset-password?token={token}" in \
        messages_to(stack.mail_dir, email)[-1].get_body(("plain",)).get_content()

    # The policy is checked before the token is spent: a weak choice can be corrected.
    weak = api.post("/api/auth/password/reset", json={"token": token, "new_password": "short"})
    assert weak.status_code == 422 and weak.json()["error"]["details"][0]["field"] == \
        "new_password"
    reset = api.post("/api/auth/password/reset",
                     json={"token": token, "new_password": NEW_PASSWORD})
    assert reset.status_code == 204, reset.text

    for credential in (registered["access_token"], other["access_token"], key):
        assert api.get("/api/auth/me", headers=bearer(credential)).status_code == 403
    for refresh in (registered["refresh_token"], other["refresh_token"]):
        assert api.post("/api/auth/refresh", json={"refresh_token": refresh}).status_code == 401
    assert api.post("/api/auth/login",
                    json={"email": email, "password": PASSWORD}).status_code == 401
    signed_in = api.post("/api/auth/login", json={"email": email, "password": NEW_PASSWORD})
    assert signed_in.status_code == 200
    # The link reached the inbox, so the address is proved.
    assert signed_in.json()["user"]["email_verified"] is True
    reused = api.post("/api/auth/password/reset",
                      json={"token": token, "new_password": "Yet-Another-Passphrase-3"})
    assert reused.status_code == 400 and reused.json()["error"]["code"] == "invalid_token"


def test_forgot_password_does_the_same_work_for_unknown_emails_without_a_link(api, stack):
    # The same path (an audit entry, a commit, an email) either way: the answer's timing does
    # not tell whether the account exists (issue 21, item 10).
    known, unknown = unique_email("known"), unique_email("nobody")
    register(api, known)
    answers = [api.post("/api/auth/password/forgot", json={"email": address})
               for address in (known, unknown)]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json() == answers[1].json()
    (sent,) = messages_to(stack.mail_dir, unknown)
    assert sent["Subject"] == "Reset your PyAirtable password"
    text = sent.get_body(("plain",)).get_content()
    assert "no active account" in text and "token=" not in text
    assert token_from(stack.mail_dir, known, "/reset-password")


def test_forgot_password_is_throttled_per_email_known_or_not(api, stack):
    for address in (register(api)["user"]["email"], unique_email("ghost")):
        statuses = [api.post("/api/auth/password/forgot", json={"email": address}).status_code
                    for _ in range(4)]
        assert statuses == [202, 202, 202, 429]
        limited = api.post("/api/auth/password/forgot", json={"email": address})
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
        assert limited.json()["error"]["code"] == "rate_limited"


def test_a_password_change_revokes_the_accounts_api_keys(api):
    user = register(api)
    headers = bearer(user["access_token"])
    key = api.post("/api/auth/api-keys", headers=headers, json={"name": "ci"}).json()["key"]
    changed = api.post("/api/auth/password", headers=headers,
                       json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 204
    assert api.get("/api/auth/me", headers=bearer(key)).status_code == 403
    assert api.get("/api/auth/api-keys", headers=headers).json()["items"] == []

"""OAuth for MCP clients over real HTTP: the 401's challenge, discovery, registration, consent,
the code exchange with PKCE, tokens bound to the MCP endpoint, refresh rotation, revocation.
(The whole flow as a client runs it, consent in Chromium: tests/browser/test_agent_oauth_flow.py.)
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.authutil import bearer, register

pytestmark = pytest.mark.e2e

REDIRECT = "http://127.0.0.1:33418/callback"
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {},
    "clientInfo": {"name": "oauth-test", "version": "1"}}}
MCP_HEADERS = {"Accept": "application/json, text/event-stream",
               "Content-Type": "application/json"}


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.decode().rstrip("=")


def _client(api, redirect: str = REDIRECT) -> str:
    registered = api.post("/api/oauth/register", json={
        "client_name": "Test Agent", "redirect_uris": [redirect],
        "token_endpoint_auth_method": "none"})
    assert registered.status_code == 201, registered.text
    assert registered.json()["token_endpoint_auth_method"] == "none"
    return registered.json()["client_id"]


def _authorize(api, user_headers: dict[str, str], client_id: str, challenge: str,
               resource: str, redirect: str = REDIRECT) -> dict[str, Any]:
    return {"response_type": "code", "client_id": client_id, "redirect_uri": redirect,
            "code_challenge": challenge, "code_challenge_method": "S256", "state": "s-123",
            "scope": "mcp", "resource": resource}


def _code(api, user_headers, request: dict[str, Any]) -> str:
    shown = api.get("/api/oauth/authorize", params=request, headers=user_headers)
    assert shown.status_code == 200, shown.text
    assert shown.json()["client_name"] == "Test Agent"
    decided = api.post("/api/oauth/authorize", json={**request, "approve": True},
                       headers=user_headers)
    assert decided.status_code == 200, decided.text
    back = urlsplit(decided.json()["redirect_to"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == request["redirect_uri"]
    query = parse_qs(back.query)
    assert query["state"] == ["s-123"]
    return query["code"][0]


def _token(api, **form: str):
    return api.post("/api/oauth/token", data=form)


def _mcp(api, token: str | None):
    headers = {**MCP_HEADERS, **(bearer(token) if token else {})}
    return api.post("/api/mcp", json=INITIALIZE, headers=headers)


@pytest.fixture
def granted(api, stack) -> dict[str, Any]:
    """A user, a registered client and the tokens of an approved grant."""
    user = register(api)
    headers = bearer(user["access_token"])
    client_id = _client(api)
    verifier, challenge = _pkce()
    resource = f"{stack.url}/api/mcp"
    code = _code(api, headers, _authorize(api, headers, client_id, challenge, resource))
    answer = _token(api, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                    client_id=client_id, code_verifier=verifier, resource=resource)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    return {"user": user, "headers": headers, "client_id": client_id, "code": code,
            "verifier": verifier, "tokens": answer.json()}


def test_without_credentials_the_endpoint_answers_401_naming_its_metadata(api, stack):
    answer = _mcp(api, None)
    assert answer.status_code == 401
    metadata_url = f"{stack.url}/.well-known/oauth-protected-resource/api/mcp"
    assert answer.headers["WWW-Authenticate"] == f'Bearer resource_metadata="{metadata_url}"'
    assert answer.json()["error"]["code"] == "unauthorized"
    refused = _mcp(api, "not-a-real-key")
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


def test_discovery_names_this_deployment_and_its_endpoints(api, stack):
    resource = api.get("/.well-known/oauth-protected-resource/api/mcp")
    assert resource.status_code == 200, resource.text
    assert resource.json()["resource"] == f"{stack.url}/api/mcp"
    assert resource.json()["authorization_servers"] == [stack.url]
    server = api.get("/.well-known/oauth-authorization-server").json()
    assert server["issuer"] == stack.url
    assert server["code_challenge_methods_supported"] == ["S256"]
    assert server["authorization_endpoint"] == f"{stack.url}/oauth/authorize"
    assert server["client_id_metadata_document_supported"] is True
    for endpoint in ("token_endpoint", "registration_endpoint", "revocation_endpoint"):
        assert server[endpoint].startswith(f"{stack.url}/api/oauth/")


def test_a_grant_reaches_the_mcp_endpoint_only_and_is_listed_among_sessions(api, granted):
    tokens = granted["tokens"]
    assert (tokens["token_type"], tokens["scope"]) == ("Bearer", "mcp")
    answer = _mcp(api, tokens["access_token"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["result"]["serverInfo"]["name"]
    # Audience-bound: the API's own routes refuse it at the gateway.
    assert api.get("/api/auth/me", headers=bearer(tokens["access_token"])).status_code == 403
    listed = api.get("/api/auth/sessions", headers=granted["headers"]).json()["items"]
    assert [s["client_name"] for s in listed if s["client_name"]] == ["Test Agent"]


def test_a_code_is_spent_once_and_only_with_its_verifier(api, stack, granted):
    again = _token(api, grant_type="authorization_code", code=granted["code"],
                   redirect_uri=REDIRECT, client_id=granted["client_id"],
                   code_verifier=granted["verifier"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"

    verifier, challenge = _pkce()
    resource = f"{stack.url}/api/mcp"
    code = _code(api, granted["headers"], _authorize(api, granted["headers"],
                                                     granted["client_id"], challenge, resource))
    wrong = _token(api, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                   client_id=granted["client_id"], code_verifier=_pkce()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    other = _token(api, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                   client_id=_client(api), code_verifier=verifier)
    assert other.status_code == 400 and other.json()["error"] == "invalid_grant"


def test_refresh_rotates_and_a_reused_refresh_token_ends_the_grant(api, granted):
    first = granted["tokens"]
    rotated = _token(api, grant_type="refresh_token", refresh_token=first["refresh_token"],
                     client_id=granted["client_id"])
    assert rotated.status_code == 200, rotated.text
    assert _mcp(api, rotated.json()["access_token"]).status_code == 200
    reused = _token(api, grant_type="refresh_token", refresh_token=first["refresh_token"],
                    client_id=granted["client_id"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert _mcp(api, rotated.json()["access_token"]).status_code == 401


def test_revocation_ends_the_grant_at_once(api, granted):
    tokens = granted["tokens"]
    revoked = api.post("/api/oauth/revoke", data={"token": tokens["refresh_token"]})
    assert revoked.status_code == 200, revoked.text
    assert _mcp(api, tokens["access_token"]).status_code == 401
    refreshed = _token(api, grant_type="refresh_token", refresh_token=tokens["refresh_token"],
                       client_id=granted["client_id"])
    assert refreshed.status_code == 400
    # Revoking what is unknown is no error (RFC 7009).
    assert api.post("/api/oauth/revoke", data={"token": "nothing"}).status_code == 200


def test_a_denied_request_returns_access_denied_and_no_code(api, stack):
    headers = bearer(register(api)["access_token"])
    request = _authorize(api, headers, _client(api), _pkce()[1], f"{stack.url}/api/mcp")
    denied = api.post("/api/oauth/authorize", json={**request, "approve": False},
                      headers=headers)
    query = parse_qs(urlsplit(denied.json()["redirect_to"]).query)
    assert query["error"] == ["access_denied"] and "code" not in query


@pytest.mark.parametrize("change, field", [
    ({"redirect_uri": "https://evil.example/callback"}, "redirect_uri"),
    ({"client_id": "mcp-unknown"}, "client_id"),
    ({"resource": "https://elsewhere.example/api/mcp"}, "resource"),
    ({"code_challenge_method": "plain"}, "code_challenge_method"),
])
def test_a_request_that_cannot_be_trusted_is_refused_on_the_page_not_redirected(
        api, stack, change, field):
    headers = bearer(register(api)["access_token"])
    request = {**_authorize(api, headers, _client(api), _pkce()[1], f"{stack.url}/api/mcp"),
               **change}
    shown = api.get("/api/oauth/authorize", params=request, headers=headers)
    assert shown.status_code == 422, shown.text
    assert field in shown.text
    decided = api.post("/api/oauth/authorize", json={**request, "approve": True},
                       headers=headers)
    assert decided.status_code == 422


@pytest.mark.parametrize("uri", ["http://evil.example/cb", "javascript:alert(1)",
                                 "https://app.example/cb#frag"])
def test_registration_refuses_redirects_a_code_must_not_reach(api, uri):
    answer = api.post("/api/oauth/register", json={"client_name": "x", "redirect_uris": [uri]})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_redirect_uri"

"""Credentials: none is 401 from the gateway; tokens or keys the authorizer refuses are 403 and
no function runs; an API key is a bearer token like an access token."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from tests.e2e.authutil import bearer, register

pytestmark = pytest.mark.e2e


def _b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (json.loads(base64.urlsafe_b64decode(pad(header))),
            json.loads(base64.urlsafe_b64decode(pad(payload))), signature)


@pytest.fixture(scope="module")
def account(api):
    return register(api)


@pytest.fixture(scope="module")
def signing_key(stack):
    """The deployment's real key, to prove claims checks hold even with a valid signature."""
    arn = stack.resource("JwtSigningSecret")
    return stack.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]


def _refused(api, headers):
    response = api.get("/api/auth/me", headers=headers)
    assert response.status_code == 403, response.text
    assert response.json() == {"message": "Forbidden"}


def test_the_genuine_token_is_accepted(api, account):
    assert api.get("/api/auth/me", headers=bearer(account["access_token"])).status_code == 200


def test_tampered_signature_is_refused(api, account):
    header, payload, signature = account["access_token"].split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    _refused(api, bearer(f"{header}.{payload}.{flipped}"))


def test_tampered_payload_is_refused(api, account):
    header, claims, signature = _parts(account["access_token"])
    claims["role"] = "admin"
    token = f"{_b64(header)}.{_b64(claims)}.{signature}"
    _refused(api, bearer(token))


def test_alg_none_is_refused(api, account):
    _, claims, _ = _parts(account["access_token"])
    _refused(api, bearer(f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."))


@pytest.mark.parametrize("alg", ["HS512", "HS384"])
def test_another_hmac_algorithm_is_refused_even_with_the_right_key(api, account, signing_key, alg):
    _, claims, _ = _parts(account["access_token"])
    _refused(api, bearer(jwt.encode(claims, signing_key, algorithm=alg)))


def test_rs256_header_is_refused(api, account):
    _, claims, signature = _parts(account["access_token"])
    _refused(api, bearer(f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(claims)}.{signature}"))


@pytest.mark.parametrize(("claim", "value"), [
    ("aud", "someone-else"), ("iss", "evil"), ("exp", 1_000_000_000), ("sid", "nosuchsession"),
    ("sub", "nosuchuser"), ("iat", "yesterday")])
def test_wrong_claims_are_refused_even_when_signed_with_the_right_key(api, account, signing_key,
                                                                      claim, value):
    _, claims, _ = _parts(account["access_token"])
    claims[claim] = value
    _refused(api, bearer(jwt.encode(claims, signing_key, algorithm="HS256")))


@pytest.mark.parametrize("missing", ["sid", "jti", "aud", "exp"])
def test_missing_claims_are_refused(api, account, signing_key, missing):
    _, claims, _ = _parts(account["access_token"])
    del claims[missing]
    _refused(api, bearer(jwt.encode(claims, signing_key, algorithm="HS256")))


def test_expired_token_is_refused(api, account, signing_key):
    _, claims, _ = _parts(account["access_token"])
    claims["iat"], claims["exp"] = int(time.time()) - 1000, int(time.time()) - 100
    _refused(api, bearer(jwt.encode(claims, signing_key, algorithm="HS256")))


def test_token_signed_with_another_key_is_refused(api, account):
    _, claims, _ = _parts(account["access_token"])
    _refused(api, bearer(jwt.encode(claims, "x" * 64, algorithm="HS256")))


def test_token_of_a_revoked_session_is_refused(api):
    user = register(api)
    assert api.post("/api/auth/logout", headers=bearer(user["access_token"])).status_code == 204
    _refused(api, bearer(user["access_token"]))


@pytest.mark.parametrize("value", [
    "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "bearer not.a.jwt", "Bearer a.b", "Token abc",
    "Bearer " + "a" * 5000, "Bearer \u00e9\u00e9.\u00e9.\u00e9"])
def test_malformed_authorization_headers_are_refused(api, value):
    response = api.get("/api/auth/me", headers={"Authorization": value.encode("utf-8")})
    assert response.status_code in (401, 403), response.text
    assert response.status_code != 500


@pytest.mark.parametrize("key", ["pyat_deadbeef_" + "a" * 43, "nonsense", "pyat_" + "x" * 100,
                                 "pak_deadbeef_" + "a" * 43])
def test_unknown_or_malformed_api_keys_are_refused(api, key):
    _refused(api, bearer(key))


def test_refresh_token_is_not_an_access_token(api, account):
    _refused(api, bearer(account["refresh_token"]))


def test_a_request_without_authorization_is_401_from_the_gateway(api):
    for headers in ({}, {"Authorization": ""}):
        response = api.get("/api/auth/me", headers=headers)
        assert response.status_code == 401, response.text
        assert response.json() == {"message": "Unauthorized"}


def test_an_api_key_is_a_bearer_token_and_x_api_key_is_no_credential(api, account):
    key = api.post("/api/auth/api-keys", headers=bearer(account["access_token"]),
                   json={"name": "one-header"}).json()["key"]
    me = api.get("/api/auth/me", headers=bearer(key))
    assert me.status_code == 200 and me.json()["id"] == account["user"]["id"]
    alone = api.get("/api/auth/me", headers={"X-API-Key": key})
    assert alone.status_code == 401 and alone.json() == {"message": "Unauthorized"}
    # Beside a refused Authorization header it is not looked at either.
    _refused(api, {"Authorization": "Bearer nonsense", "X-API-Key": key})

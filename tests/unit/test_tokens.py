"""Access tokens: HS256 only, every claim required, audience and issuer checked."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import jwt
import pytest

from common.auth import tokens
from common.core.settings import get_settings

KEY = b"k" * 64


@pytest.fixture(autouse=True)
def _settings(monkeypatch):
    for name, value in {"EVENT_BUS_NAME": "bus", "JWT_SECRET_ARN": "arn:jwt",
                        "CACHE_TABLE_NAME": "c", "UPLOADS_BUCKET_NAME": "u",
                        "DIAGNOSTICS_STATE_MACHINE_ARN": "d",
                        "TOKEN_KEY_ID": "k", "DATABASE_URL": "sqlite://"}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    monkeypatch.setattr(tokens, "signing_key", lambda: KEY)
    yield
    get_settings.cache_clear()


def _issue(**overrides):
    token, _ = tokens.issue_access_token(user_id="u1", session_id="s1", role="member",
                                         issued_at=datetime.now(UTC))
    claims = jwt.decode(token, KEY, algorithms=["HS256"], audience="pyairtable-api")
    claims.update(overrides)
    return claims


def test_issued_token_carries_every_claim_and_decodes():
    token, ttl = tokens.issue_access_token(user_id="u1", session_id="s1", role="admin",
                                           issued_at=datetime.now(UTC))
    claims = tokens.decode_access_token(token)
    assert ttl == 900
    assert set(tokens.REQUIRED_CLAIMS) <= set(claims)
    assert claims["sub"] == "u1" and claims["sid"] == "s1" and claims["role"] == "admin"
    assert claims["exp"] - claims["iat"] == 900
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_every_token_has_its_own_jti():
    first = _issue()["jti"]
    assert first != _issue()["jti"]


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_other_algorithms_are_refused_even_with_the_right_key(alg):
    with pytest.raises(tokens.InvalidToken):
        tokens.decode_access_token(jwt.encode(_issue(), KEY, algorithm=alg))


def test_alg_none_is_refused():
    unsigned = jwt.encode(_issue(), None, algorithm="none")
    with pytest.raises(tokens.InvalidToken):
        tokens.decode_access_token(unsigned)


@pytest.mark.parametrize("overrides", [{"aud": "other"}, {"iss": "other"},
                                       {"exp": int(time.time()) - 1}, {"sub": ""}, {"sid": 5}])
def test_wrong_claims_are_refused(overrides):
    with pytest.raises(tokens.InvalidToken):
        tokens.decode_access_token(jwt.encode(_issue(**overrides), KEY, algorithm="HS256"))


@pytest.mark.parametrize("claim", tokens.REQUIRED_CLAIMS)
def test_each_required_claim_is_required(claim):
    claims = _issue()
    del claims[claim]
    with pytest.raises(tokens.InvalidToken):
        tokens.decode_access_token(jwt.encode(claims, KEY, algorithm="HS256"))


def test_tampering_and_garbage_are_refused():
    token = jwt.encode(_issue(), KEY, algorithm="HS256")
    head, body, sig = token.split(".")
    for bad in (f"{head}.{body}.{sig[:-2]}xx", "a.b.c", "", "x" * 5000, token + "."):
        with pytest.raises(tokens.InvalidToken):
            tokens.decode_access_token(bad)


def test_another_key_is_refused():
    with pytest.raises(tokens.InvalidToken):
        tokens.decode_access_token(jwt.encode(_issue(), b"z" * 64, algorithm="HS256"))


def test_digest_is_sha256_hex_and_secrets_are_unique():
    assert len(tokens.digest("x")) == 64
    assert tokens.opaque_secret() != tokens.opaque_secret()

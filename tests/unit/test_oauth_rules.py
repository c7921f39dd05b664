"""The authorization server's rules that need no database: where a code may be sent, which
redirect matches a registration, and what a client's metadata document must say."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from common.auth import oauth
from common.core import outbound
from common.core.errors import ValidationFailed
from common.core.models import OAuthClient


@pytest.mark.parametrize("uri", ["https://claude.ai/api/mcp/auth_callback",
                                 "http://127.0.0.1:8976/callback", "http://localhost/cb",
                                 "http://[::1]:9000/cb", "cursor://anysphere.cursor-mcp/oauth"])
def test_redirects_a_client_may_register(uri):
    assert oauth.redirect_uri_problem(uri) is None


@pytest.mark.parametrize("uri, problem", [
    ("http://app.example/cb", "must use https"),
    ("javascript:alert(1)", "javascript"),
    ("data:text/html,hi", "data"),
    ("https://app.example/cb#x", "fragment"),
    ("/relative/cb", "absolute"),
])
def test_redirects_a_code_must_never_reach(uri, problem):
    assert problem in (oauth.redirect_uri_problem(uri) or "")


def test_a_loopback_redirect_matches_on_any_port_and_others_only_exactly():
    client = OAuthClient(id="mcp-x", name="x", redirect_uris=[
        "http://127.0.0.1:1234/callback", "https://app.example/cb"])
    assert oauth._redirect_allowed(client, "http://127.0.0.1:5555/callback")
    assert not oauth._redirect_allowed(client, "http://127.0.0.1:5555/other")
    assert oauth._redirect_allowed(client, "https://app.example/cb")
    assert not oauth._redirect_allowed(client, "https://app.example:8443/cb")
    assert not oauth._redirect_allowed(client, "https://app.example/cb/")


class _Session:
    def __init__(self) -> None:
        self.rows: dict[str, OAuthClient] = {}

    def get(self, _model, key):
        return self.rows.get(key)

    def add(self, row) -> None:
        self.rows[row.id] = row


URL = "https://agent.example/oauth/client.json"


def _serving(monkeypatch, document: object, status: int = 200) -> list[str]:
    fetched: list[str] = []

    def send(method, url, **_options):
        fetched.append(url)
        return SimpleNamespace(status=status, body=json.dumps(document).encode(),
                               truncated=False)

    monkeypatch.setattr(outbound, "send", send)
    return fetched


def test_a_metadata_document_client_is_read_from_its_url_and_remembered(monkeypatch):
    fetched = _serving(monkeypatch, {"client_id": URL, "client_name": "Agent",
                                     "redirect_uris": ["https://agent.example/cb"]})
    uow = SimpleNamespace(session=_Session())
    client = oauth._client(uow, URL)
    assert (client.id, client.name, client.redirect_uris) == (
        URL, "Agent", ["https://agent.example/cb"])
    assert fetched == [URL] and uow.session.rows[URL] is client


@pytest.mark.parametrize("document", [
    {"client_id": "https://other.example/client.json", "client_name": "Agent",
     "redirect_uris": ["https://agent.example/cb"]},          # names another client
    {"client_id": URL, "client_name": "Agent", "redirect_uris": ["http://agent.example/cb"]},
    {"client_id": URL, "client_name": "Agent"},                 # no redirect
    ["not", "an", "object"],
])
def test_a_metadata_document_that_does_not_vouch_for_itself_is_refused(monkeypatch, document):
    _serving(monkeypatch, document)
    with pytest.raises(ValidationFailed, match="metadata document"):
        oauth._client(SimpleNamespace(session=_Session()), URL)


def test_an_unreachable_metadata_document_is_refused(monkeypatch):
    def send(*_args, **_options):
        raise outbound.OutboundError("no answer")

    monkeypatch.setattr(outbound, "send", send)
    with pytest.raises(ValidationFailed):
        oauth._client(SimpleNamespace(session=_Session()), URL)


def test_a_pkce_verifier_matches_its_s256_challenge():
    # RFC 7636, appendix B.
    assert oauth._challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == \
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

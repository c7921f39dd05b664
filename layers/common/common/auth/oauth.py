"""This deployment as the OAuth 2.1 authorization server of its MCP endpoint, so an agent
connects with nothing but the URL: metadata (RFC 8414, RFC 9728), dynamic client registration
(RFC 7591) and client ID metadata documents, authorization code with PKCE S256 approved by the
signed-in user, rotating refresh tokens, revocation (RFC 7009). A grant is a session of its own
(listed and revocable with the user's other sessions) whose access tokens name the MCP resource
as their audience (RFC 8707): the API's authorizer refuses them on every other route.

The token, registration and revocation endpoints answer OAuth's own error shape
(`{"error", "error_description"}`, RFC 6749 section 5.2), which clients parse, not the API's
envelope; the consent routes, called by the web UI, answer the envelope.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import timedelta
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import update

from common.auth import sessions, tokens
from common.auth.schemas import (
    AuthorizationServerOut,
    AuthorizeDecisionIn,
    AuthorizeIn,
    ConsentOut,
    OAuthClientIn,
    OAuthClientOut,
    OAuthRevokedOut,
    OAuthTokensOut,
    ProtectedResourceOut,
    RedirectOut,
)
from common.auth.sessions import Client, SignedIn
from common.core import audit, credentials, outbound
from common.core.clock import is_past, now
from common.core.db import UnitOfWork
from common.core.errors import ValidationFailed
from common.core.identity import Identity
from common.core.models import AuthSession, OAuthClient, OAuthCode, RefreshToken, User
from common.core.settings import get_settings

SCOPE = "mcp"
CODE_TTL = timedelta(minutes=5)
METADATA_DOCUMENT_MAX_BYTES = 5 * 1024
# Schemes a browser must never be sent to with a code in hand.
_REFUSED_SCHEMES = {"javascript", "data", "file", "vbscript", "about", "blob"}
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")


class OAuthError(Exception):
    """An OAuth error response: `error` is RFC 6749's code, `description` a sentence."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def body(self) -> dict[str, str]:
        """The response body clients parse."""
        return {"error": self.error, "error_description": self.description}


def issuer() -> str:
    """This authorization server's identifier: the deployment's web origin."""
    return get_settings().web_url.rstrip("/")


def mcp_resource() -> str:
    """The protected resource the tokens are for."""
    return f"{issuer()}/api/mcp"


def resource_metadata_url() -> str:
    """Where the MCP endpoint's protected-resource metadata is (the 401's challenge names it)."""
    return f"{issuer()}/.well-known/oauth-protected-resource/api/mcp"


def protected_resource_metadata() -> ProtectedResourceOut:
    """RFC 9728: the MCP endpoint, and this deployment as its authorization server."""
    return ProtectedResourceOut(resource=mcp_resource(), authorization_servers=[issuer()],
                                scopes_supported=[SCOPE], bearer_methods_supported=["header"],
                                resource_name="PyAirtable Serverless MCP")


def authorization_server_metadata() -> AuthorizationServerOut:
    """RFC 8414: what a client needs to register, authorize, get and revoke tokens."""
    base = issuer()
    return AuthorizationServerOut(
        issuer=base,
        # The consent page of the web UI: the user signs in there and approves.
        authorization_endpoint=f"{base}/oauth/authorize",
        token_endpoint=f"{base}/api/oauth/token",
        registration_endpoint=f"{base}/api/oauth/register",
        revocation_endpoint=f"{base}/api/oauth/revoke",
        scopes_supported=[SCOPE], response_types_supported=["code"],
        grant_types_supported=["authorization_code", "refresh_token"],
        code_challenge_methods_supported=["S256"],
        token_endpoint_auth_methods_supported=["none"],
        revocation_endpoint_auth_methods_supported=["none"],
        client_id_metadata_document_supported=True)


# ------------------------------------------------------------------ clients


def redirect_uri_problem(uri: str) -> str | None:
    """Why `uri` cannot receive codes, or None: https anywhere, http on a loopback address only
    (native apps, RFC 8252), a private-use scheme; never a fragment or a script scheme."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if not scheme or len(uri) > 2000:
        return "is not an absolute URI"
    if parts.fragment or "#" in uri:
        return "must not have a fragment"
    if scheme in _REFUSED_SCHEMES:
        return f"must not use the {scheme}: scheme"
    if scheme == "http" and not _is_loopback(parts.hostname or ""):
        return "must use https (http only on a loopback address)"
    if scheme in ("http", "https") and not parts.hostname:
        return "has no host"
    return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def register_client(body: Any, uow: UnitOfWork, client: Client) -> OAuthClientOut:
    """RFC 7591: a public client (no secret; PKCE proves each exchange) with its redirect URIs.

    `body` is the request's JSON as sent: its problems are OAuth errors, not the API's 422.
    """
    try:
        cmd = OAuthClientIn.model_validate(body)
    except ValueError as e:
        raise OAuthError("invalid_client_metadata", _first_error(e)) from None
    for uri in cmd.redirect_uris:
        problem = redirect_uri_problem(uri)
        if problem:
            raise OAuthError("invalid_redirect_uri", f"The redirect URI {uri!r} {problem}.")
    if cmd.token_endpoint_auth_method not in (None, "none"):
        raise OAuthError("invalid_client_metadata",
                         "Only public clients (token_endpoint_auth_method none) are supported.")
    at = now()
    app = OAuthClient(id=f"mcp-{tokens.opaque_secret()[:32]}", name=cmd.client_name,
                      redirect_uris=list(cmd.redirect_uris), created_at=at)
    with uow:
        uow.session.add(app)
        uow.commit()
    return OAuthClientOut(client_id=app.id, client_id_issued_at=int(at.timestamp()),
                          client_name=app.name, redirect_uris=app.redirect_uris,
                          grant_types=["authorization_code", "refresh_token"],
                          response_types=["code"], token_endpoint_auth_method="none",
                          scope=SCOPE)


def _first_error(error: Exception) -> str:
    errors = getattr(error, "errors", lambda: [])()
    if errors:
        where = ".".join(str(p) for p in errors[0].get("loc", ()))
        return f"{where}: {errors[0].get('msg', 'invalid')}" if where else errors[0]["msg"]
    return "The client metadata is not valid."


def _client(uow: UnitOfWork, client_id: str) -> OAuthClient:
    """A registered client, or one whose id is the https URL of its metadata document."""
    if client_id.startswith("https://"):
        return _from_metadata_document(uow, client_id)
    client = uow.session.get(OAuthClient, client_id)
    if client is None:
        raise ValidationFailed("This application is not registered with this deployment.",
                               details=[{"field": "client_id", "problem": "unknown client"}])
    return client


def _from_metadata_document(uow: UnitOfWork, url: str) -> OAuthClient:
    """The client its metadata document describes, fetched under the outbound rule (no
    private or metadata addresses), its `client_id` required to be the URL itself."""

    refused = ValidationFailed(f"The client's metadata document at {url} cannot be used.",
                               details=[{"field": "client_id", "problem": "no usable metadata"}])
    parts = urlsplit(url)
    if parts.path in ("", "/") or parts.fragment or parts.username:
        raise refused
    try:
        answer = outbound.send("GET", url, headers={"Accept": "application/json"}, timeout=5,
                               max_response_bytes=METADATA_DOCUMENT_MAX_BYTES)
        document = json.loads(answer.body) if answer.status == 200 and not answer.truncated \
            else None
    except (outbound.OutboundError, ValidationFailed, ValueError):
        raise refused from None
    if not isinstance(document, dict) or document.get("client_id") != url:
        raise refused
    try:
        cmd = OAuthClientIn.model_validate(document)
    except ValueError:
        raise refused from None
    if any(redirect_uri_problem(uri) for uri in cmd.redirect_uris):
        raise refused
    known = uow.session.get(OAuthClient, url)
    if known is None:
        known = OAuthClient(id=url, name=cmd.client_name, redirect_uris=[], created_at=now())
        uow.session.add(known)
    known.name, known.redirect_uris = cmd.client_name, list(cmd.redirect_uris)
    return known


def _redirect_allowed(client: OAuthClient, uri: str) -> bool:
    """Exact match, except a loopback redirect's port, which a native app picks per run."""
    if uri in client.redirect_uris:
        return True
    asked = urlsplit(uri)
    if asked.scheme != "http" or not _is_loopback(asked.hostname or ""):
        return False
    return any((r.scheme, r.hostname, r.path, r.query)
               == (asked.scheme, asked.hostname, asked.path, asked.query)
               for r in map(urlsplit, client.redirect_uris))


# ------------------------------------------------------------------ consent


def _checked(cmd: AuthorizeIn, uow: UnitOfWork) -> OAuthClient:
    """The client, once the request is one this server may answer with a redirect."""
    client = _client(uow, cmd.client_id)
    if not _redirect_allowed(client, cmd.redirect_uri):
        raise ValidationFailed("This redirect address is not one the application registered.",
                               details=[{"field": "redirect_uri", "problem": "not registered"}])
    if cmd.resource not in (None, mcp_resource()):
        raise ValidationFailed(f"Tokens of this deployment are for {mcp_resource()} only.",
                               details=[{"field": "resource", "problem": "unknown resource"}])
    return client


def consent(cmd: AuthorizeIn, uow: UnitOfWork, identity: Identity) -> ConsentOut:
    """What the consent page shows: the application, where it returns, what it may do."""
    with uow:
        client = _checked(cmd, uow)
        uow.commit()  # a metadata document's client is remembered
        return ConsentOut(client_id=client.id, client_name=client.name,
                          redirect_host=urlsplit(cmd.redirect_uri).netloc or cmd.redirect_uri,
                          resource=mcp_resource(), scope=SCOPE)


def decide(cmd: AuthorizeDecisionIn, uow: UnitOfWork, identity: SignedIn) -> RedirectOut:
    """The address to send the browser to: the client's redirect URI with a code (approved)
    or `access_denied`, and the state it sent."""
    at = now()
    with uow:
        app = _checked(cmd, uow)
        answer: dict[str, str] = {}
        if cmd.approve:
            code = tokens.opaque_secret()
            uow.session.add(OAuthCode(
                code_hash=tokens.digest(code), client_id=app.id, client_name=app.name,
                user_id=identity.user_id, redirect_uri=cmd.redirect_uri,
                code_challenge=cmd.code_challenge, resource=mcp_resource(), scope=SCOPE,
                created_at=at, expires_at=at + CODE_TTL))
            answer["code"] = code
            audit.record(uow, "oauth.approved", actor_id=identity.user_id,
                         target_id=identity.user_id, ip=identity.client.ip, client_id=app.id,
                         client_name=app.name)
        else:
            answer.update(error="access_denied",
                          error_description="The user did not approve the application.")
        if cmd.state is not None:
            answer["state"] = cmd.state
        uow.commit()
    separator = "&" if urlsplit(cmd.redirect_uri).query else "?"
    return RedirectOut(redirect_to=f"{cmd.redirect_uri}{separator}{urlencode(answer)}")


# ------------------------------------------------------------------ tokens


def token(form: dict[str, str], uow: UnitOfWork, client: Client) -> OAuthTokensOut:
    """RFC 6749 section 4.1.3 (authorization code with PKCE) and section 6 (refresh); `form`
    is the request's form body, its problems OAuth errors."""
    grant = form.get("grant_type")
    if grant == "authorization_code":
        return _exchange_code(form, uow, client)
    if grant == "refresh_token":
        return _refresh(form, uow)
    raise OAuthError("unsupported_grant_type",
                     "grant_type is authorization_code or refresh_token.")


def _required(form: dict[str, str], *names: str) -> list[str]:
    missing = [n for n in names if not form.get(n)]
    if missing:
        raise OAuthError("invalid_request", f"Missing: {', '.join(missing)}.")
    return [form[n] for n in names]


def _exchange_code(form: dict[str, str], uow: UnitOfWork, client: Client) -> OAuthTokensOut:
    code, redirect_uri, client_id, verifier = _required(
        form, "code", "redirect_uri", "client_id", "code_verifier")
    invalid = OAuthError("invalid_grant", "The authorization code is not valid.")
    at = now()
    with uow:
        found = uow.session.get(OAuthCode, tokens.digest(code))
        if (found is None or found.spent_at is not None or is_past(found.expires_at, at)
                or found.client_id != client_id or found.redirect_uri != redirect_uri
                or form.get("resource") not in (None, found.resource)):
            raise invalid
        if not _VERIFIER.fullmatch(verifier) or not hmac.compare_digest(
                _challenge_of(verifier), found.code_challenge):
            raise OAuthError("invalid_grant", "The code verifier does not match the challenge.")
        # Spent atomically: of two racing exchanges, one gets the tokens.
        spent = uow.session.execute(update(OAuthCode).where(
            OAuthCode.code_hash == found.code_hash, OAuthCode.spent_at.is_(None))
            .values(spent_at=at).execution_options(synchronize_session=False))
        user = uow.session.get(User, found.user_id)
        if spent.rowcount != 1 or user is None or not user.is_active:
            raise invalid
        grant, refresh = sessions.start(uow, user, client, at)
        grant.client_id, grant.client_name = found.client_id, found.client_name
        grant.audience = found.resource
        body = _tokens(grant, user, refresh, at)
        audit.record(uow, "oauth.token_issued", actor_id=user.id, target_id=user.id,
                     ip=client.ip, client_id=found.client_id, session_id=grant.id)
        uow.commit()
    return body


def _challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _refresh(form: dict[str, str], uow: UnitOfWork) -> OAuthTokensOut:
    secret, client_id = _required(form, "refresh_token", "client_id")
    invalid = OAuthError("invalid_grant", "The refresh token is not valid.")
    at = now()
    with uow:
        spent = sessions.spend(uow, secret, at)
        grant = uow.session.get(AuthSession, spent.token.session_id) if spent.token else None
        if grant is None or grant.client_id != client_id:
            raise invalid
        if spent.reused:  # a stolen token raced its owner: the grant ends for both
            sessions.revoke(grant, at)
            uow.commit()
            raise invalid
        user = uow.session.get(User, grant.user_id)
        if (not sessions.is_live(grant, at) or is_past(spent.token.expires_at, at)
                or user is None or not user.is_active):
            raise invalid
        grant.last_used_at = at
        body = _tokens(grant, user, sessions.issue_refresh(uow, grant, at), at)
        uow.commit()
    return body


def _tokens(grant: AuthSession, user: User, refresh: str, at: Any) -> OAuthTokensOut:
    access, ttl = tokens.issue_access_token(user_id=user.id, session_id=grant.id,
                                            role=user.role, issued_at=at,
                                            audience=grant.audience)
    return OAuthTokensOut(access_token=access, expires_in=ttl, refresh_token=refresh,
                          scope=SCOPE)


def revoke(form: dict[str, str], uow: UnitOfWork, client: Client) -> OAuthRevokedOut:
    """RFC 7009: the grant of a refresh or access token ends; an unknown token is no error."""
    (presented,) = _required(form, "token")
    at = now()
    with uow:
        grant = _grant_of(uow, presented)
        if grant is not None and grant.client_id and sessions.revoke(grant, at):
            audit.record(uow, "oauth.revoked", actor_id=grant.user_id, target_id=grant.user_id,
                         ip=client.ip, session_id=grant.id, client_id=grant.client_id)
            uow.commit()
    return OAuthRevokedOut()


def _grant_of(uow: UnitOfWork, presented: str) -> AuthSession | None:

    if credentials.is_jwt(presented):
        try:
            claims = tokens.verified_claims(presented, tokens.signing_key(),
                                            issuer=get_settings().jwt_issuer,
                                            audience=mcp_resource())
        except tokens.InvalidToken:
            return None
        return uow.session.get(AuthSession, claims["sid"])
    refresh = uow.session.get(RefreshToken, tokens.digest(presented))
    return uow.session.get(AuthSession, refresh.session_id) if refresh else None

"""OAuth for MCP clients (common.auth.oauth): the metadata documents, registration, the consent
page's two calls, the token and revocation endpoints."""

from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from common.auth import oauth
from common.auth.schemas import (
    AuthorizeDecisionIn,
    AuthorizeIn,
    ConsentOut,
    OAuthErrorOut,
    RedirectOut,
)
from common.auth.sessions import Client
from common.db import UnitOfWork
from common.http import JSON
from common.identity import current_identity
from common.schemas import documented, parse

router = Router()
TAGS = ["oauth"]
# OAuth's own error shape, not the API's envelope (RFC 6749 section 5.2).
_OAUTH_ERROR = documented(400, OAuthErrorOut, "OAuth error")
# Token answers are never cached (RFC 6749 section 5.1); nor is anything else here.
_NO_STORE = {"Cache-Control": "no-store"}


def _client() -> Client:
    event = router.current_event
    return Client(ip=event.request_context.http.source_ip,
                  user_agent=event.headers.get("user-agent"))


def _oauth(call: Any, status: int = 200) -> Response:
    """`call()`'s answer, or its OAuth error in OAuth's own shape."""
    try:
        body = call()
    except oauth.OAuthError as e:
        return Response(status_code=e.status, content_type=JSON, body=e.body(),
                        headers=_NO_STORE)
    return Response(status_code=status, content_type=JSON, body=body or {}, headers=_NO_STORE)


def _form() -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body, as OAuth clients send it."""
    body = router.current_event.decoded_body or ""
    return dict(parse_qsl(body, keep_blank_values=False))


@router.get("/.well-known/oauth-protected-resource/api/mcp", tags=TAGS,
            summary="The MCP endpoint's protected-resource metadata (RFC 9728)")
def resource_metadata() -> dict:
    return oauth.protected_resource_metadata()


@router.get("/.well-known/oauth-authorization-server", tags=TAGS,
            summary="This deployment's OAuth authorization server metadata (RFC 8414)")
def server_metadata() -> dict:
    return oauth.authorization_server_metadata()


@router.post("/api/oauth/register", tags=TAGS,
             summary="Register a public OAuth client (RFC 7591)",
             responses={**documented(201, description="Registered"), **_OAUTH_ERROR})
def register_client():
    def registered() -> dict:
        try:
            body = router.current_event.json_body
        except ValueError:
            raise oauth.OAuthError("invalid_client_metadata",
                                   "The body is not a JSON object.") from None
        return oauth.register_client(body, UnitOfWork())

    return _oauth(registered, status=201)


@router.get("/api/oauth/authorize", tags=TAGS,
            summary="What the consent page shows for an authorization request",
            responses=documented(200, ConsentOut))
def consent() -> dict:
    cmd = parse(AuthorizeIn, router.current_event.query_string_parameters or {})
    return oauth.consent(cmd, UnitOfWork(), current_identity(router)).model_dump(mode="json")


@router.post("/api/oauth/authorize", tags=TAGS,
             summary="Approve or deny an authorization request: where the browser goes next",
             responses=documented(200, RedirectOut))
def decide(body: AuthorizeDecisionIn) -> dict:
    return oauth.decide(body, UnitOfWork(), current_identity(router), _client()).model_dump()


@router.post("/api/oauth/token", tags=TAGS,
             summary="Exchange an authorization code, or a refresh token, for tokens",
             responses={**documented(200, description="Tokens"), **_OAUTH_ERROR})
def token():
    return _oauth(lambda: oauth.token(_form(), UnitOfWork(), _client()))


@router.post("/api/oauth/revoke", tags=TAGS, summary="Revoke a grant's token (RFC 7009)",
             responses={**documented(200, description="Revoked (or unknown)"),
                        **_OAUTH_ERROR})
def revoke():
    return _oauth(lambda: oauth.revoke(_form(), UnitOfWork()))

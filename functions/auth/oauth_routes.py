"""OAuth for MCP clients (common.auth.oauth): the metadata documents, registration, the consent
page's two calls, the token and revocation endpoints."""

from typing import Any
from urllib.parse import parse_qsl

from auth_callers import Anyone, SignedInCaller
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from common.auth import oauth
from common.auth.schemas import (
    AuthorizationServerOut,
    AuthorizeDecisionIn,
    AuthorizeIn,
    ConsentOut,
    OAuthClientOut,
    OAuthErrorOut,
    OAuthRevokedOut,
    OAuthTokensOut,
    ProtectedResourceOut,
    RedirectOut,
)
from common.core.dependencies import Caller, Uow
from common.core.http import JSON
from common.core.schemas import documented, parse

router = Router()
TAGS = ["oauth"]
# OAuth's own error shape, not the API's envelope (RFC 6749 section 5.2).
_OAUTH_ERROR = documented(400, OAuthErrorOut, "OAuth error")
# Token answers are never cached (RFC 6749 section 5.1); nor is anything else here.
_NO_STORE = {"Cache-Control": "no-store"}


def _oauth(call: Any, status: int = 200) -> Response:
    """`call()`'s model with the no-store header, or its OAuth error in OAuth's own shape.

    A `Response`, not a model, because of the header; so the routes document their bodies with
    `responses=` instead of a return annotation (one would validate the error body too).
    """
    try:
        body = call().model_dump(mode="json")
    except oauth.OAuthError as e:
        return Response(status_code=e.status, content_type=JSON, body=e.body(),
                        headers=_NO_STORE)
    return Response(status_code=status, content_type=JSON, body=body, headers=_NO_STORE)


def _json() -> Any:
    """The registration's JSON body; one that is not JSON is OAuth's error, not a 422."""
    try:
        return router.current_event.json_body
    except ValueError:
        raise oauth.OAuthError("invalid_client_metadata",
                               "The body is not a JSON object.") from None


def _form() -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body, as OAuth clients send it."""
    body = router.current_event.decoded_body or ""
    return dict(parse_qsl(body, keep_blank_values=False))


@router.get("/.well-known/oauth-protected-resource/api/mcp", tags=TAGS,
            summary="The MCP endpoint's protected-resource metadata (RFC 9728)")
def resource_metadata() -> ProtectedResourceOut:
    return oauth.protected_resource_metadata()


@router.get("/.well-known/oauth-authorization-server", tags=TAGS,
            summary="This deployment's OAuth authorization server metadata (RFC 8414)")
def server_metadata() -> AuthorizationServerOut:
    return oauth.authorization_server_metadata()


@router.post("/api/oauth/register", tags=TAGS,
             summary="Register a public OAuth client (RFC 7591)",
             responses={**documented(201, OAuthClientOut, "Registered"), **_OAUTH_ERROR})
def register_client(client: Anyone, uow: Uow):
    return _oauth(lambda: oauth.register_client(_json(), uow, client), status=201)


@router.get("/api/oauth/authorize", tags=TAGS,
            summary="What the consent page shows for an authorization request")
def consent(caller: Caller, uow: Uow) -> ConsentOut:
    # Parsed here, not as a Query model: its 422 names the fields as they are sent.
    cmd = parse(AuthorizeIn, router.current_event.query_string_parameters or {})
    return oauth.consent(cmd, uow, caller)


@router.post("/api/oauth/authorize", tags=TAGS,
             summary="Approve or deny an authorization request: where the browser goes next")
def decide(body: AuthorizeDecisionIn, caller: SignedInCaller, uow: Uow) -> RedirectOut:
    return oauth.decide(body, uow, caller)


@router.post("/api/oauth/token", tags=TAGS,
             summary="Exchange an authorization code, or a refresh token, for tokens",
             responses={**documented(200, OAuthTokensOut, "Tokens"), **_OAUTH_ERROR})
def token(client: Anyone, uow: Uow):
    return _oauth(lambda: oauth.token(_form(), uow, client))


@router.post("/api/oauth/revoke", tags=TAGS, summary="Revoke a grant's token (RFC 7009)",
             responses={**documented(200, OAuthRevokedOut, "Revoked (or unknown)"),
                        **_OAUTH_ERROR})
def revoke(client: Anyone, uow: Uow):
    return _oauth(lambda: oauth.revoke(_form(), uow, client))

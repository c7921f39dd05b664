"""Auth service: accounts, sessions, tokens and API keys."""

from typing import Any

import oauth_routes
from aws_lambda_powertools.event_handler import Response

from common import health
from common.auth import service
from common.auth.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    LoginIn,
    LogoutIn,
    PasswordChangeIn,
    PasswordForgotIn,
    PasswordResetIn,
    RefreshIn,
    RegisterIn,
    TokensOut,
    UserOut,
    ValidateOut,
    VerifyEmailIn,
)
from common.auth.sessions import Client
from common.db import UnitOfWork
from common.http import JSON, create_app, json_body
from common.identity import current_identity
from common.lambda_handlers import http_handler
from common.schemas import Page, documented, parse

app = create_app("auth")
app.include_router(health.health_router("auth", {"database": health.database}))
app.include_router(oauth_routes.router)
TAGS = ["auth"]


def _client() -> Client:
    http = app.current_event.request_context.http
    return Client(ip=http.source_ip, user_agent=app.current_event.headers.get("user-agent"))


def _created(body: dict[str, Any]) -> Response:
    return Response(status_code=201, content_type=JSON, body=body)


def _no_content() -> Response:
    return Response(status_code=204, content_type=JSON, body="")


def _accepted(message: str) -> Response:
    return Response(status_code=202, content_type=JSON, body={"message": message})


@app.post("/api/auth/register", summary="Create an account and sign in", tags=TAGS,
          responses=documented(201, TokensOut, "Signed up"))
def register(body: RegisterIn):
    return _created(service.register(body, UnitOfWork(), _client()))


@app.post("/api/auth/verify-email", summary="Verify the email with the emailed token",
          tags=TAGS, responses=documented(200, UserOut))
def verify_email(body: VerifyEmailIn) -> dict:
    return service.verify_email(body, UnitOfWork(), _client())


@app.post("/api/auth/verify-email/resend", summary="Send a new verification email", tags=TAGS,
          responses=documented(202, description="Sent"))
def resend_verification():
    service.resend_verification(UnitOfWork(), current_identity(app))
    return _accepted("A new verification email is on its way.")


@app.post("/api/auth/password/forgot", summary="Email a password reset link", tags=TAGS,
          responses=documented(202, description="Accepted (for unknown emails too)"))
def forgot_password(body: PasswordForgotIn):
    service.forgot_password(body, UnitOfWork(), _client())
    return _accepted("If an account has this email address, a reset link is on its way.")


@app.post("/api/auth/password/reset", summary="Set a new password with the emailed token",
          tags=TAGS, responses=documented(204, description="Changed; every session and API "
                                                          "key revoked"))
def reset_password(body: PasswordResetIn):
    service.reset_password(body, UnitOfWork(), _client())
    return _no_content()


@app.post("/api/auth/login", summary="Sign in with email or username", tags=TAGS,
          responses=documented(200, TokensOut))
def login(body: LoginIn) -> dict:
    return service.login(body, UnitOfWork(), _client())


@app.post("/api/auth/refresh", summary="Exchange a refresh token for a new pair", tags=TAGS,
          responses=documented(200, TokensOut))
def refresh(body: RefreshIn) -> dict:
    return service.refresh(body, UnitOfWork(), _client())


@app.post("/api/auth/logout", summary="Revoke the current session", tags=TAGS,
          responses=documented(204, description="Signed out"))
def logout():
    raw = app.current_event.body
    cmd = parse(LogoutIn, json_body(app) if raw and raw.strip() else {})
    service.logout(cmd, UnitOfWork(), current_identity(app), _client())
    return _no_content()


@app.get("/api/auth/validate", summary="Validate the presented credential", tags=TAGS,
          responses=documented(200, ValidateOut))
def validate() -> dict:
    ctx = (app.current_event.raw_event.get("requestContext", {}).get("authorizer") or {}) \
        .get("lambda") or {}
    return service.validate(current_identity(app), UnitOfWork(), ctx.get("expires_at"))


@app.get("/api/auth/me", summary="The caller's user", tags=TAGS,
          responses=documented(200, UserOut))
def me() -> dict:
    return service.me(current_identity(app), UnitOfWork(read_only=True))


@app.post("/api/auth/password",
          summary="Change the password (other sessions and every API key revoked)",
          tags=TAGS,
          responses=documented(204, description="Changed"))
def change_password(body: PasswordChangeIn):
    service.change_password(body, UnitOfWork(), current_identity(app), _client())
    return _no_content()


@app.get("/api/auth/sessions", summary="The caller's active sessions", tags=TAGS,
          responses=documented(200, Page))
def list_sessions() -> dict:
    return service.list_sessions(current_identity(app), UnitOfWork())


@app.delete("/api/auth/sessions/<session_id>", summary="Revoke one session", tags=TAGS,
          responses=documented(204, description="Revoked"))
def revoke_session(session_id: str):
    service.revoke_session(session_id, UnitOfWork(), current_identity(app), _client())
    return _no_content()


@app.post("/api/auth/api-keys", summary="Create an API key (shown once)", tags=TAGS,
          responses=documented(201, ApiKeyCreated, "Created (the key is shown once)"))
def create_api_key(body: ApiKeyIn):
    return _created(service.create_api_key(body, UnitOfWork(), current_identity(app), _client()))


@app.get("/api/auth/api-keys", summary="The caller's API keys (without secrets)", tags=TAGS,
          responses=documented(200, Page))
def list_api_keys() -> dict:
    return service.list_api_keys(current_identity(app), UnitOfWork())


@app.delete("/api/auth/api-keys/<key_id>", summary="Revoke an API key", tags=TAGS,
          responses=documented(204, description="Revoked"))
def revoke_api_key(key_id: str):
    service.revoke_api_key(key_id, UnitOfWork(), current_identity(app), _client())
    return _no_content()


lambda_handler = http_handler(app)

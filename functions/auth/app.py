"""Auth service: accounts, sessions, tokens and API keys."""

from typing import Annotated

import oauth_routes
from auth_callers import Anyone, SignedInCaller
from aws_lambda_powertools.event_handler.openapi.params import Body

from common.auth import service
from common.auth.commands import ValidateCredential
from common.auth.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    LoginIn,
    LogoutIn,
    PasswordChangeIn,
    PasswordForgotIn,
    PasswordResetIn,
    RefreshIn,
    RegisterIn,
    SessionOut,
    TokensOut,
    UserOut,
    ValidateOut,
    VerifyEmailIn,
)
from common.core import health
from common.core.dependencies import Caller, ReadUow, Uow
from common.core.http import create_app
from common.core.lambda_handlers import http_handler
from common.core.schemas import Message, Page, documented

app = create_app("auth")
app.include_router(health.health_router("auth", {"database": health.database}))
app.include_router(oauth_routes.router)
TAGS = ["auth"]


@app.post("/api/auth/register", summary="Create an account and sign in", tags=TAGS,
          status_code=201, responses=documented(201, description="Signed up"))
def register(body: RegisterIn, client: Anyone, uow: Uow) -> TokensOut:
    return service.register(body, uow, client)


@app.post("/api/auth/verify-email", summary="Verify the email with the emailed token",
          tags=TAGS)
def verify_email(body: VerifyEmailIn, client: Anyone, uow: Uow) -> UserOut:
    return service.verify_email(body, uow, client)


@app.post("/api/auth/verify-email/resend", summary="Send a new verification email", tags=TAGS,
          status_code=202, responses=documented(202, description="Sent"))
def resend_verification(caller: Caller, uow: Uow) -> Message:
    return service.resend_verification(uow, caller)


@app.post("/api/auth/password/forgot", summary="Email a password reset link", tags=TAGS,
          status_code=202,
          responses=documented(202, description="Accepted (for unknown emails too)"))
def forgot_password(body: PasswordForgotIn, client: Anyone, uow: Uow) -> Message:
    return service.forgot_password(body, uow, client)


@app.post("/api/auth/password/reset", summary="Set a new password with the emailed token",
          tags=TAGS, status_code=204,
          responses=documented(204, description="Changed; every session and API key revoked"))
def reset_password(body: PasswordResetIn, client: Anyone, uow: Uow) -> None:
    service.reset_password(body, uow, client)


@app.post("/api/auth/login", summary="Sign in with email or username", tags=TAGS)
def login(body: LoginIn, client: Anyone, uow: Uow) -> TokensOut:
    return service.login(body, uow, client)


@app.post("/api/auth/refresh", summary="Exchange a refresh token for a new pair", tags=TAGS)
def refresh(body: RefreshIn, client: Anyone, uow: Uow) -> TokensOut:
    return service.refresh(body, uow, client)


@app.post("/api/auth/logout", summary="Revoke the current session", tags=TAGS,
          status_code=204, responses=documented(204, description="Signed out"))
def logout(caller: SignedInCaller, uow: Uow,
           body: Annotated[LogoutIn | None, Body()] = None) -> None:
    service.logout(body or LogoutIn(), uow, caller)


@app.get("/api/auth/validate", summary="Validate the presented credential", tags=TAGS)
def validate(caller: Caller, uow: ReadUow) -> ValidateOut:
    authorizer = app.current_event.raw_event.get("requestContext", {}).get("authorizer") or {}
    cmd = ValidateCredential(token_expires_at=(authorizer.get("lambda") or {}).get("expires_at"))
    return service.validate(cmd, uow, caller)


@app.get("/api/auth/me", summary="The caller's user", tags=TAGS)
def me(caller: Caller, uow: ReadUow) -> UserOut:
    return service.me(uow, caller)


@app.post("/api/auth/password",
          summary="Change the password (other sessions and every API key revoked)",
          tags=TAGS, status_code=204, responses=documented(204, description="Changed"))
def change_password(body: PasswordChangeIn, caller: SignedInCaller, uow: Uow) -> None:
    service.change_password(body, uow, caller)


@app.get("/api/auth/sessions", summary="The caller's active sessions", tags=TAGS)
def list_sessions(caller: Caller, uow: ReadUow) -> Page[SessionOut]:
    return service.list_sessions(uow, caller)


@app.delete("/api/auth/sessions/<session_id>", summary="Revoke one session", tags=TAGS,
            status_code=204, responses=documented(204, description="Revoked"))
def revoke_session(session_id: str, caller: SignedInCaller, uow: Uow) -> None:
    service.revoke_session(session_id, uow, caller)


@app.post("/api/auth/api-keys", summary="Create an API key (shown once)", tags=TAGS,
          status_code=201,
          responses=documented(201, description="Created (the key is shown once)"))
def create_api_key(body: ApiKeyIn, caller: SignedInCaller, uow: Uow) -> ApiKeyCreated:
    return service.create_api_key(body, uow, caller)


@app.get("/api/auth/api-keys", summary="The caller's API keys (without secrets)", tags=TAGS)
def list_api_keys(caller: Caller, uow: ReadUow) -> Page[ApiKeyOut]:
    return service.list_api_keys(uow, caller)


@app.delete("/api/auth/api-keys/<key_id>", summary="Revoke an API key", tags=TAGS,
            status_code=204, responses=documented(204, description="Revoked"))
def revoke_api_key(key_id: str, caller: SignedInCaller, uow: Uow) -> None:
    service.revoke_api_key(key_id, uow, caller)


lambda_handler = http_handler(app)

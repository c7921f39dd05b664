"""Request and response models of the auth and users APIs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from common.core.schemas import Email, Utc

Password = Annotated[str, Field(min_length=1, max_length=256)]
Username = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=64,
                                            pattern=r"^[A-Za-z0-9_.-]+$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Role = Literal["admin", "member"]


class RegisterIn(BaseModel):
    """POST /api/auth/register."""

    email: Email
    password: Password
    username: Username | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    invitation_token: Annotated[str, Field(max_length=512)] | None = None


class VerifyEmailIn(BaseModel):
    """POST /api/auth/verify-email: the token from the verification email."""

    token: Annotated[str, Field(min_length=1, max_length=512)]


class PasswordForgotIn(BaseModel):
    """POST /api/auth/password/forgot."""

    email: Email


class PasswordResetIn(BaseModel):
    """POST /api/auth/password/reset: the token from the reset email and the new password."""

    token: Annotated[str, Field(min_length=1, max_length=512)]
    new_password: Password


class LoginIn(BaseModel):
    """POST /api/auth/login: by email or by username."""

    email: Annotated[str, Field(max_length=320)] | None = None
    username: Annotated[str, Field(max_length=320)] | None = None
    password: Password

    @model_validator(mode="after")
    def _one_identifier(self) -> LoginIn:
        if not (self.email or self.username):
            raise ValueError("email or username is required")
        return self

    @property
    def identifier(self) -> str:
        """The account identifier, normalised."""
        return (self.email or self.username or "").strip().lower()


class RefreshIn(BaseModel):
    """POST /api/auth/refresh."""

    refresh_token: Annotated[str, Field(min_length=1, max_length=512)]


class LogoutIn(BaseModel):
    """POST /api/auth/logout (the body is optional)."""

    refresh_token: Annotated[str, Field(max_length=512)] | None = None


class PasswordChangeIn(BaseModel):
    """POST /api/auth/password."""

    current_password: Password
    new_password: Password


class ApiKeyIn(BaseModel):
    """POST /api/auth/api-keys."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    expires_in_days: Annotated[int, Field(ge=1, le=365)] = 90


class ProfilePatch(BaseModel):
    """PATCH /api/users/me: only the fields sent change; a null preference key is removed."""

    username: Username | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    preferences: dict[str, Any] | None = None


class AdminUserPatch(BaseModel):
    """PATCH /api/users/{id}."""

    role: Role | None = None
    is_active: bool | None = None


class UserOut(BaseModel):
    """A user as the API shows it (never the password hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    username: str | None
    first_name: str | None
    last_name: str | None
    role: str
    is_active: bool
    email_verified: bool
    preferences: dict[str, Any]
    created_at: Utc


class TokensOut(BaseModel):
    """The body of register, login and refresh."""

    user: UserOut
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class ValidateOut(BaseModel):
    """GET /api/auth/validate."""

    valid: bool
    user: UserOut
    session_id: str | None
    expires_at: Utc | None


class SessionOut(BaseModel):
    """One of the caller's sessions."""

    id: str
    created_at: Utc
    last_used_at: Utc
    expires_at: Utc
    user_agent: str | None
    ip: str | None
    current: bool
    client_name: str | None = Field(
        default=None, description="The AI agent (OAuth client) the session was granted to")


class ApiKeyCreated(BaseModel):
    """The one response that shows an API key."""

    id: str
    name: str
    key: str
    prefix: str
    expires_at: Utc | None


class ApiKeyOut(BaseModel):
    """An API key without its secret."""

    id: str
    name: str
    prefix: str
    created_at: Utc
    expires_at: Utc | None
    last_used_at: Utc | None


class OAuthClientIn(BaseModel):
    """A client's metadata (RFC 7591 registration, or its metadata document): what this server
    reads of it."""

    model_config = ConfigDict(extra="ignore")

    client_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                  max_length=200)] = "Unnamed application"
    redirect_uris: list[Annotated[str, StringConstraints(min_length=1, max_length=2000)]] = \
        Field(min_length=1, max_length=10)
    token_endpoint_auth_method: str | None = None


class AuthorizeIn(BaseModel):
    """An authorization request (RFC 6749 section 4.1.1 with PKCE and RFC 8707's resource), as
    the consent page passes it on."""

    response_type: Literal["code"]
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    redirect_uri: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    code_challenge: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{43,128}$")]
    code_challenge_method: Literal["S256"] = Field(
        description="S256 only: a plain challenge would be the verifier itself")
    state: Annotated[str, StringConstraints(max_length=1000)] | None = None
    scope: Annotated[str, StringConstraints(max_length=200)] | None = None
    resource: Annotated[str, StringConstraints(max_length=512)] | None = None


class AuthorizeDecisionIn(AuthorizeIn):
    """The user's answer on the consent page."""

    approve: bool


class ConsentOut(BaseModel):
    """What the consent page shows before the user approves."""

    client_id: str
    client_name: str
    redirect_host: str
    resource: str
    scope: str


class RedirectOut(BaseModel):
    """Where the browser goes next."""

    redirect_to: str


class OAuthErrorOut(BaseModel):
    """An OAuth error response (RFC 6749 section 5.2), what OAuth clients parse."""

    error: str
    error_description: str


class OAuthClientOut(BaseModel):
    """A registered client (RFC 7591 section 3.2.1)."""

    client_id: str
    client_id_issued_at: int
    client_name: str
    redirect_uris: list[str]
    grant_types: list[str]
    response_types: list[str]
    token_endpoint_auth_method: str
    scope: str


class OAuthTokensOut(BaseModel):
    """The token endpoint's answer (RFC 6749 section 5.1)."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    refresh_token: str
    scope: str


class OAuthRevokedOut(BaseModel):
    """The revocation endpoint's answer: an empty object, for known and unknown tokens alike."""


class ProtectedResourceOut(BaseModel):
    """The MCP endpoint's protected-resource metadata (RFC 9728)."""

    resource: str
    authorization_servers: list[str]
    scopes_supported: list[str]
    bearer_methods_supported: list[str]
    resource_name: str


class AuthorizationServerOut(BaseModel):
    """This deployment's authorization server metadata (RFC 8414)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    registration_endpoint: str
    revocation_endpoint: str
    scopes_supported: list[str]
    response_types_supported: list[str]
    grant_types_supported: list[str]
    code_challenge_methods_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    revocation_endpoint_auth_methods_supported: list[str]
    client_id_metadata_document_supported: bool

"""Auth use cases: functions of (command, unit of work, caller) called by the auth routes.

Public routes know their caller only as a `Client` (where the request came from).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from common.auth import (
    accounts,
    api_keys,
    email_tokens,
    emails,
    passwords,
    sessions,
    throttle,
    tokens,
)
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
from common.auth.sessions import Client, SignedIn
from common.core import audit
from common.core.clock import is_past, now
from common.core.db import UnitOfWork
from common.core.errors import (
    Conflict,
    Forbidden,
    InvalidToken,
    NotFound,
    Unauthorized,
    UpstreamError,
    ValidationFailed,
)
from common.core.identity import Identity
from common.core.models import ApiKey, AuthSession, RefreshToken, User, WorkspaceInvitation
from common.core.observability import logger
from common.core.schemas import Message, Page
from common.workspaces import invitations
from common.workspaces import service as workspaces

INVALID_CREDENTIALS = "Invalid email, username or password."
INVALID_REFRESH = "The refresh token is not valid."


def _tokens(uow: UnitOfWork, user: User, client: Client, at: datetime) -> TokensOut:
    session, refresh = sessions.start(uow, user, client, at)
    access, ttl = tokens.issue_access_token(user_id=user.id, session_id=session.id,
                                            role=user.role, issued_at=at)
    return TokensOut(user=UserOut.model_validate(user), access_token=access,
                     refresh_token=refresh, expires_in=ttl)


def register(cmd: RegisterIn, uow: UnitOfWork, client: Client) -> TokensOut:
    """A new member with a personal workspace, signed in; the email is verified by a link.

    An invitation for this email proves the address (it came by email): the account starts
    verified and joins the inviting workspace.
    """
    at = now()
    with uow:
        throttle.per_ip(uow, "register", client.ip, at)
        accounts.check_password_policy(cmd.password, email=cmd.email, username=cmd.username)
        invitation = _invitation_for(uow, cmd)
        accounts.check_registration_allowed(cmd.email, invited=invitation is not None)
        accounts.ensure_unique(uow, email=cmd.email, username=cmd.username)
        user = User(email=cmd.email, username=cmd.username, first_name=cmd.first_name,
                    last_name=cmd.last_name, password_hash=passwords.hash_password(cmd.password),
                    role="member", is_active=True, preferences={}, created_at=at, updated_at=at,
                    email_verified_at=at if invitation else None)
        accounts.promote_if_listed(user)
        uow.session.add(user)
        uow.flush()
        workspaces.create_personal(uow, user)
        if invitation is not None:
            invitations.accept(uow, invitation, user)
        token = None if invitation else email_tokens.issue(uow, user, email_tokens.VERIFY, at)
        body = _tokens(uow, user, client, at)
        audit.record(uow, "user.registered", actor_id=user.id, target_id=user.id,
                     ip=client.ip, role=user.role, invited=invitation is not None)
        uow.commit()
    if token:
        _send_after_commit(emails.send_verification, user.email, token)
    return body


def _invitation_for(uow: UnitOfWork, cmd: RegisterIn) -> WorkspaceInvitation | None:
    """The open invitation the registration presents; 403 when it is not one for this email."""
    if not cmd.invitation_token:
        return None
    invitation = invitations.find_valid(uow, cmd.invitation_token)
    if invitation is None or invitation.email.lower() != cmd.email:
        raise Forbidden("The invitation is not valid for this email address (it may have "
                        "expired, been used or been revoked).")
    return invitation


def _send_after_commit(send: Callable[[str, str], None], to: str, token: str) -> None:
    """Send an email whose loss must not undo the committed change (the user can ask again)."""
    try:
        send(to, token)
    except UpstreamError:
        logger.warning("email not sent", extra={"email_kind": send.__name__})


def verify_email(cmd: VerifyEmailIn, uow: UnitOfWork, client: Client) -> UserOut:
    """Mark the email verified with the emailed token (single use); ADMIN_EMAILS apply now."""
    at = now()
    with uow:
        throttle.per_ip(uow, "verify_email", client.ip, at)
        row, user = email_tokens.find(uow, cmd.token, email_tokens.VERIFY, at)
        email_tokens.spend(uow, row, at)
        if user.email_verified_at is None:
            user.email_verified_at = at
            audit.record(uow, "user.email_verified", actor_id=user.id, target_id=user.id,
                         ip=client.ip)
        _promote(uow, user)
        uow.commit()
        return UserOut.model_validate(user)


def resend_verification(uow: UnitOfWork, identity: Identity) -> Message:
    """A new verification email for the caller; 409 when the email is already verified."""
    at = now()
    with uow:
        user = accounts.get(uow, identity.user_id)
        if user.email_verified:
            raise Conflict("The email address is already verified.")
        throttle.take(uow, f"verify:{user.id}", throttle.VERIFICATION_EMAIL, at)
        token = email_tokens.issue(uow, user, email_tokens.VERIFY, at)
        uow.commit()
    emails.send_verification(user.email, token)
    return Message(message="A new verification email is on its way.")


def forgot_password(cmd: PasswordForgotIn, uow: UnitOfWork, client: Client) -> Message:
    """Email a reset link if an active account has this email; the caller learns nothing."""
    at = now()
    with uow:
        throttle.per_ip(uow, "password_forgot", client.ip, at)
        throttle.take(uow, f"reset:{cmd.email}", throttle.RESET_EMAIL, at)
        user = accounts.by_identifier(uow, cmd.email)
        known = user is not None and user.is_active
        # The same work either way (a row, an audit entry, a commit, an email), so the answer's
        # timing does not tell whether the account exists.
        token = email_tokens.issue(uow, user, email_tokens.RESET, at) if known else ""
        audit.record(uow, "user.password_reset_requested", actor_id=None,
                     target_id=user.id if known else None, ip=client.ip)
        uow.commit()
    if known:
        _send_after_commit(emails.send_password_reset, user.email, token)
    else:
        _send_after_commit(emails.send_no_account, cmd.email, token)
    return Message(message="If an account has this email address, a reset link is on its way.")


def reset_password(cmd: PasswordResetIn, uow: UnitOfWork, client: Client) -> None:
    """Set a new password with the emailed token; every session and API key is revoked."""
    at = now()
    with uow:
        throttle.per_ip(uow, "password_reset", client.ip, at)
        row, user = email_tokens.find(uow, cmd.token, email_tokens.RESET, at)
        if not user.is_active:
            raise InvalidToken(email_tokens.MESSAGE)
        # The policy is checked before the token is spent, so a weak choice can be corrected.
        accounts.check_password_policy(cmd.new_password, email=user.email,
                                       username=user.username, field="new_password")
        email_tokens.spend(uow, row, at)
        email_tokens.spend_all(uow, user.id, email_tokens.RESET, at)
        user.password_hash = passwords.hash_password(cmd.new_password)
        user.updated_at = at
        if user.email_verified_at is None:  # the link reached this inbox: the address is theirs
            user.email_verified_at = at
            audit.record(uow, "user.email_verified", actor_id=user.id, target_id=user.id,
                         ip=client.ip, by="password_reset")
        revoked = sessions.revoke_all(uow, user.id, at)
        keys = api_keys.revoke_all(uow, user.id, at)
        throttle.reset(uow, throttle.key_for(user.id, ""))
        audit.record(uow, "user.password_reset", actor_id=user.id, target_id=user.id,
                     ip=client.ip, sessions_revoked=revoked, api_keys_revoked=keys)
        _promote(uow, user)
        uow.commit()


def _promote(uow: UnitOfWork, user: User) -> None:
    """Apply ADMIN_EMAILS to a verified email, with its audit entry."""
    if accounts.promote_if_listed(user):
        audit.record(uow, "user.role_changed", actor_id=None, target_id=user.id, role="admin",
                     reason="ADMIN_EMAILS")


def login(cmd: LoginIn, uow: UnitOfWork, client: Client) -> TokensOut:
    """Tokens for the right password; one answer for unknown accounts and wrong passwords."""
    at = now()
    with uow:
        throttle.per_ip(uow, "login", client.ip, at)
        user = accounts.by_identifier(uow, cmd.identifier)
        key = throttle.key_for(user.id if user else None, cmd.identifier)
        # Counted and committed before the password is checked: parallel guesses cannot
        # all slip under the limit.
        attempt = throttle.take(uow, key, throttle.ACCOUNT, at)
        if user is None:
            passwords.burn_time(cmd.password)
        ok = user is not None and passwords.verify_password(user.password_hash, cmd.password)
        if not ok or user is None or not user.is_active:
            reason = "unknown_user" if user is None else "inactive" if ok else "wrong_password"
            _fail(uow, attempt, user, client, reason=reason,
                  identifier=None if user else cmd.identifier[:100])
            raise Unauthorized(INVALID_CREDENTIALS)
        throttle.reset(uow, key)
        audit.record(uow, "user.login", actor_id=user.id, target_id=user.id,
                     ip=client.ip)
        _promote(uow, user)
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(cmd.password)
        body = _tokens(uow, user, client, at)
        uow.commit()
    return body


def _fail(uow: UnitOfWork, attempt: throttle.Attempt, user: User | None, client: Client,
          **details: Any) -> None:
    """Audit a failed password check; raise 429 when it was the last one the window allows."""
    target = user.id if user else None
    audit.record(uow, "user.login_failed", actor_id=target, target_id=target,
                 ip=client.ip, **{k: v for k, v in details.items() if v})
    if attempt.last:
        audit.record(uow, "user.locked_out", actor_id=target, target_id=target,
                     ip=client.ip, seconds=int(throttle.LOCKOUT.total_seconds()))
    uow.commit()
    if attempt.last:
        raise attempt.error()


def refresh(cmd: RefreshIn, uow: UnitOfWork, client: Client) -> TokensOut:
    """A new token pair; the presented refresh token is spent, and a spent one kills the session."""
    at = now()
    with uow:
        spent = sessions.spend(uow, cmd.refresh_token, at)
        if spent.token is None:
            raise Unauthorized(INVALID_REFRESH)
        session = uow.session.get(AuthSession, spent.token.session_id)
        if session is None:
            raise Unauthorized(INVALID_REFRESH)
        if spent.reused:
            if sessions.revoke(session, at):
                audit.record(uow, "user.refresh_reused", actor_id=session.user_id,
                             target_id=session.user_id, ip=client.ip,
                             session_id=session.id)
                uow.commit()
            raise Unauthorized(INVALID_REFRESH)
        user = uow.session.get(User, session.user_id)
        if (not sessions.is_live(session, at) or is_past(spent.token.expires_at, at)
                or user is None or not user.is_active):
            raise Unauthorized(INVALID_REFRESH)
        new_refresh = sessions.issue_refresh(uow, session, at)
        session.last_used_at = at
        access, ttl = tokens.issue_access_token(user_id=user.id, session_id=session.id,
                                                role=user.role, issued_at=at)
        uow.commit()
        return TokensOut(user=UserOut.model_validate(user), access_token=access,
                         refresh_token=new_refresh, expires_in=ttl)


def logout(cmd: LogoutIn, uow: UnitOfWork, identity: SignedIn) -> None:
    """Revoke the caller's session (and the session of the given refresh token, if theirs)."""
    at = now()
    with uow:
        targets = [uow.session.get(AuthSession, identity.session_id)] if identity.session_id \
            else []
        if cmd.refresh_token:
            token = uow.session.get(RefreshToken, tokens.digest(cmd.refresh_token))
            targets.append(uow.session.get(AuthSession, token.session_id) if token else None)
        revoked = [s.id for s in targets
                   if s is not None and s.user_id == identity.user_id and sessions.revoke(s, at)]
        audit.record(uow, "user.logout", actor_id=identity.user_id,
                     target_id=identity.user_id, ip=identity.client.ip, sessions=revoked)
        uow.commit()


def validate(cmd: ValidateCredential, uow: UnitOfWork, identity: Identity) -> ValidateOut:
    """What the presented credential stands for."""
    token_exp = cmd.token_expires_at
    with uow:
        user = accounts.get(uow, identity.user_id)
        expires_at = None
        if isinstance(token_exp, int | str) and str(token_exp).isdigit():
            # API Gateway may hand context numbers over as strings.
            expires_at = datetime.fromtimestamp(int(token_exp), UTC)
        elif identity.api_key_id:
            key = uow.session.get(ApiKey, identity.api_key_id)
            expires_at = key.expires_at if key else None
        return ValidateOut(valid=True, user=UserOut.model_validate(user),
                           session_id=identity.session_id,
                           expires_at=expires_at)


def me(uow: UnitOfWork, identity: Identity) -> UserOut:
    """The caller's user."""
    with uow:
        return UserOut.model_validate(accounts.get(uow, identity.user_id))


def change_password(cmd: PasswordChangeIn, uow: UnitOfWork, identity: SignedIn) -> None:
    """New password after proving the current one; other sessions and every API key revoked."""
    at = now()
    with uow:
        user = accounts.get(uow, identity.user_id)
        key = throttle.key_for(user.id, "")
        attempt = throttle.take(uow, key, throttle.ACCOUNT, at)
        if not passwords.verify_password(user.password_hash, cmd.current_password):
            _fail(uow, attempt, user, identity.client, reason="wrong_current_password")
            raise ValidationFailed("The current password is incorrect.", details=[
                {"field": "current_password", "problem": "is incorrect"}])
        accounts.check_password_policy(cmd.new_password, email=user.email,
                                       username=user.username, field="new_password")
        if cmd.new_password == cmd.current_password:
            raise ValidationFailed("The new password must differ from the current one.", details=[
                {"field": "new_password", "problem": "must differ from the current password"}])
        user.password_hash = passwords.hash_password(cmd.new_password)
        user.updated_at = at
        revoked = sessions.revoke_all(uow, user.id, at, keep=identity.session_id)
        keys = api_keys.revoke_all(uow, user.id, at)
        throttle.reset(uow, key)
        audit.record(uow, "user.password_changed", actor_id=user.id, target_id=user.id,
                     ip=identity.client.ip, sessions_revoked=revoked, api_keys_revoked=keys)
        uow.commit()


def list_sessions(uow: UnitOfWork, identity: Identity) -> Page[SessionOut]:
    """The caller's live sessions."""
    at = now()
    with uow:
        items = [SessionOut(id=s.id, created_at=s.created_at, last_used_at=s.last_used_at,
                            expires_at=s.expires_at, user_agent=s.user_agent, ip=s.ip,
                            current=s.id == identity.session_id, client_name=s.client_name)
                 for s in sessions.active_of(uow, identity.user_id, at)]
    return Page[SessionOut](items=items)


def revoke_session(session_id: str, uow: UnitOfWork, identity: SignedIn) -> None:
    """Revoke one of the caller's sessions; someone else's is 404."""
    at = now()
    with uow:
        session = uow.session.get(AuthSession, session_id)
        if session is None or session.user_id != identity.user_id \
                or not sessions.is_live(session, at):
            raise NotFound("No such session.")
        sessions.revoke(session, at)
        audit.record(uow, "user.session_revoked", actor_id=identity.user_id,
                     target_id=identity.user_id, ip=identity.client.ip, session_id=session_id)
        uow.commit()


def create_api_key(cmd: ApiKeyIn, uow: UnitOfWork, identity: SignedIn) -> ApiKeyCreated:
    """A new key, shown in this response only; a key cannot mint further keys."""
    if identity.session_id is None:
        raise Forbidden("API keys are created from a signed-in session, not with an API key.")
    at = now()
    with uow:
        row, key = api_keys.create(uow, identity.user_id, cmd.name, cmd.expires_in_days, at)
        audit.record(uow, "api_key.created", actor_id=identity.user_id,
                     target_id=row.id, ip=identity.client.ip, name=row.name, prefix=row.prefix)
        uow.commit()
        return ApiKeyCreated(id=row.id, name=row.name, key=key, prefix=row.prefix,
                             expires_at=row.expires_at)


def list_api_keys(uow: UnitOfWork, identity: Identity) -> Page[ApiKeyOut]:
    """The caller's keys, without their secrets."""
    with uow:
        items = [ApiKeyOut.model_validate(k, from_attributes=True)
                 for k in api_keys.of_user(uow, identity.user_id)]
    return Page[ApiKeyOut](items=items)


def revoke_api_key(key_id: str, uow: UnitOfWork, identity: SignedIn) -> None:
    """Revoke one of the caller's keys; someone else's is 404."""
    at = now()
    with uow:
        row = uow.session.get(ApiKey, key_id)
        if row is None or row.user_id != identity.user_id or row.revoked_at is not None:
            raise NotFound("No such API key.")
        row.revoked_at = at
        audit.record(uow, "api_key.revoked", actor_id=identity.user_id,
                     target_id=row.id, ip=identity.client.ip, prefix=row.prefix)
        uow.commit()

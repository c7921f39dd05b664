"""Auth use cases: functions of (command, unit of work) called by the auth function's routes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from common import audit
from common.auth import accounts, api_keys, passwords, sessions, throttle, tokens
from common.auth.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    LoginIn,
    LogoutIn,
    PasswordChangeIn,
    RefreshIn,
    RegisterIn,
    SessionOut,
    TokensOut,
    UserOut,
    ValidateOut,
)
from common.auth.sessions import Client
from common.clock import is_past, now
from common.db import UnitOfWork
from common.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from common.identity import Identity
from common.models import ApiKey, AuthSession, RefreshToken, User

INVALID_CREDENTIALS = "Invalid email, username or password."
INVALID_REFRESH = "The refresh token is not valid."


def _tokens(uow: UnitOfWork, user: User, client: Client, at: datetime) -> dict[str, Any]:
    session, refresh = sessions.start(uow, user, client, at)
    access, ttl = tokens.issue_access_token(user_id=user.id, session_id=session.id,
                                            role=user.role, issued_at=at)
    return TokensOut(user=UserOut.model_validate(user), access_token=access,
                     refresh_token=refresh, expires_in=ttl).model_dump(mode="json")


def register(cmd: RegisterIn, uow: UnitOfWork, client: Client) -> dict[str, Any]:
    """A new member (admin when listed in ADMIN_EMAILS), signed in."""
    accounts.check_password_policy(cmd.password, email=cmd.email, username=cmd.username)
    at = now()
    with uow:
        accounts.ensure_unique(uow, email=cmd.email, username=cmd.username)
        user = User(email=cmd.email, username=cmd.username, first_name=cmd.first_name,
                    last_name=cmd.last_name, password_hash=passwords.hash_password(cmd.password),
                    role="member", is_active=True, preferences={}, created_at=at, updated_at=at)
        accounts.promote_if_listed(user)
        uow.session.add(user)
        uow.flush()
        body = _tokens(uow, user, client, at)
        audit.record(uow, "user.registered", actor_id=user.id, target_id=user.id,
                     ip=client.ip, role=user.role)
        uow.commit()
    return body


def login(cmd: LoginIn, uow: UnitOfWork, client: Client) -> dict[str, Any]:
    """Tokens for the right password; one answer for unknown accounts and wrong passwords."""
    at = now()
    with uow:
        user = accounts.by_identifier(uow, cmd.identifier)
        key = throttle.key_for(user.id if user else None, cmd.identifier)
        throttle.check(uow, key, at)
        if user is None:
            passwords.burn_time(cmd.password)
        ok = user is not None and passwords.verify_password(user.password_hash, cmd.password)
        if not ok or user is None or not user.is_active:
            reason = "unknown_user" if user is None else "inactive" if ok else "wrong_password"
            _fail(uow, key, at, user, client, reason=reason,
                  identifier=None if user else cmd.identifier[:100])
            raise Unauthorized(INVALID_CREDENTIALS)
        throttle.reset(uow, key)
        audit.record(uow, "user.login", actor_id=user.id, target_id=user.id,
                     ip=client.ip)
        if accounts.promote_if_listed(user):
            audit.record(uow, "user.role_changed", actor_id=None,
                         target_id=user.id, role="admin", reason="ADMIN_EMAILS")
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(cmd.password)
        body = _tokens(uow, user, client, at)
        uow.commit()
    return body


def _fail(uow: UnitOfWork, key: str, at: datetime, user: User | None, client: Client,
          **details: Any) -> None:
    """Count and audit a failed password check; raise 429 when it locks the account."""
    target = user.id if user else None
    locked = throttle.record_failure(uow, key, at)
    audit.record(uow, "user.login_failed", actor_id=target, target_id=target,
                 ip=client.ip, **{k: v for k, v in details.items() if v})
    if locked:
        audit.record(uow, "user.locked_out", actor_id=target, target_id=target,
                     ip=client.ip, seconds=int(throttle.LOCKOUT.total_seconds()))
    uow.commit()
    if locked:
        raise throttle.lockout_error(at)


def refresh(cmd: RefreshIn, uow: UnitOfWork, client: Client) -> dict[str, Any]:
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
                         refresh_token=new_refresh, expires_in=ttl).model_dump(mode="json")


def logout(cmd: LogoutIn, uow: UnitOfWork, identity: Identity, client: Client) -> None:
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
                     target_id=identity.user_id, ip=client.ip, sessions=revoked)
        uow.commit()


def validate(identity: Identity, uow: UnitOfWork, token_exp: Any = None) -> dict[str, Any]:
    """What the presented credential stands for."""
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
                           expires_at=expires_at).model_dump(mode="json")


def me(identity: Identity, uow: UnitOfWork) -> dict[str, Any]:
    """The caller's user."""
    with uow:
        return UserOut.of(accounts.get(uow, identity.user_id))


def change_password(cmd: PasswordChangeIn, uow: UnitOfWork, identity: Identity,
                    client: Client) -> None:
    """New password after proving the current one; every other session is revoked."""
    at = now()
    with uow:
        user = accounts.get(uow, identity.user_id)
        key = throttle.key_for(user.id, "")
        throttle.check(uow, key, at)
        if not passwords.verify_password(user.password_hash, cmd.current_password):
            _fail(uow, key, at, user, client, reason="wrong_current_password")
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
        throttle.reset(uow, key)
        audit.record(uow, "user.password_changed", actor_id=user.id, target_id=user.id,
                     ip=client.ip, sessions_revoked=revoked)
        uow.commit()


def list_sessions(identity: Identity, uow: UnitOfWork) -> dict[str, Any]:
    """The caller's live sessions."""
    at = now()
    with uow:
        items = [SessionOut(id=s.id, created_at=s.created_at, last_used_at=s.last_used_at,
                            expires_at=s.expires_at, user_agent=s.user_agent, ip=s.ip,
                            current=s.id == identity.session_id).model_dump(mode="json")
                 for s in sessions.active_of(uow, identity.user_id, at)]
    return {"items": items, "next_cursor": None}


def revoke_session(session_id: str, uow: UnitOfWork, identity: Identity, client: Client) -> None:
    """Revoke one of the caller's sessions; someone else's is 404."""
    at = now()
    with uow:
        session = uow.session.get(AuthSession, session_id)
        if session is None or session.user_id != identity.user_id \
                or not sessions.is_live(session, at):
            raise NotFound("No such session.")
        sessions.revoke(session, at)
        audit.record(uow, "user.session_revoked", actor_id=identity.user_id,
                     target_id=identity.user_id, ip=client.ip, session_id=session_id)
        uow.commit()


def create_api_key(cmd: ApiKeyIn, uow: UnitOfWork, identity: Identity,
                   client: Client) -> dict[str, Any]:
    """A new key, shown in this response only; a key cannot mint further keys."""
    if identity.session_id is None:
        raise Forbidden("API keys are created from a signed-in session, not with an API key.")
    at = now()
    with uow:
        row, key = api_keys.create(uow, identity.user_id, cmd.name, cmd.expires_in_days, at)
        audit.record(uow, "api_key.created", actor_id=identity.user_id,
                     target_id=row.id, ip=client.ip, name=row.name, prefix=row.prefix)
        uow.commit()
        return ApiKeyCreated(id=row.id, name=row.name, key=key, prefix=row.prefix,
                             expires_at=row.expires_at).model_dump(mode="json")


def list_api_keys(identity: Identity, uow: UnitOfWork) -> dict[str, Any]:
    """The caller's keys, without their secrets."""
    with uow:
        items = [ApiKeyOut.model_validate(k, from_attributes=True).model_dump(mode="json")
                 for k in api_keys.of_user(uow, identity.user_id)]
    return {"items": items, "next_cursor": None}


def revoke_api_key(key_id: str, uow: UnitOfWork, identity: Identity, client: Client) -> None:
    """Revoke one of the caller's keys; someone else's is 404."""
    at = now()
    with uow:
        row = uow.session.get(ApiKey, key_id)
        if row is None or row.user_id != identity.user_id or row.revoked_at is not None:
            raise NotFound("No such API key.")
        row.revoked_at = at
        audit.record(uow, "api_key.revoked", actor_id=identity.user_id,
                     target_id=row.id, ip=client.ip, prefix=row.prefix)
        uow.commit()

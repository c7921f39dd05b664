"""Looking users up, and the rules every account change shares."""

from __future__ import annotations

from sqlalchemy import func, select

from common.auth import passwords
from common.core.db import UnitOfWork
from common.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from common.core.models import User
from common.core.settings import get_settings


def by_identifier(uow: UnitOfWork, identifier: str) -> User | None:
    """The user whose email (when it has an @) or username is `identifier`, case-insensitive."""
    identifier = identifier.strip().lower()
    if not identifier:
        return None
    column = User.email if "@" in identifier else func.lower(User.username)
    return uow.session.scalars(select(User).where(column == identifier)).first()


def get(uow: UnitOfWork, user_id: str, *, for_update: bool = False) -> User:
    """The user, or 404; `for_update` locks the row until the unit of work ends (a
    read-modify-write, such as merging preferences, must not lose a concurrent one)."""
    user = uow.session.get(User, user_id, with_for_update=for_update)
    if user is None:
        raise NotFound("No such user.")
    return user


def ensure_unique(uow: UnitOfWork, *, email: str | None = None, username: str | None = None,
                  exclude_id: str | None = None) -> None:
    """409 when the email or (case-insensitively) the username belongs to another account."""
    checks = [("email", User.email == email.lower()) if email else None,
              ("username", func.lower(User.username) == username.lower()) if username else None]
    for field, condition in filter(None, checks):
        query = select(User.id).where(condition)
        if exclude_id:
            query = query.where(User.id != exclude_id)
        if uow.session.scalars(query).first() is not None:
            raise Conflict(f"An account with this {field} already exists.",
                           details=[{"field": field, "problem": "already taken"}])


def check_password_policy(password: str, *, email: str, username: str | None,
                          field: str = "password") -> None:
    """422 with the policy's problems."""
    problems = passwords.policy_problems(password, email=email, username=username)
    if problems:
        raise ValidationFailed("The password does not meet the policy.",
                               details=[{"field": field, "problem": p} for p in problems])


def promote_if_listed(user: User) -> bool:
    """Give the admin role to a verified email listed in ADMIN_EMAILS; True when it changed."""
    if (user.role != "admin" and user.email_verified
            and user.email.lower() in get_settings().admin_email_set):
        user.role = "admin"
        return True
    return False


def check_registration_allowed(email: str, invited: bool) -> None:
    """403 unless the REGISTRATION setting lets `email` register.

    An invitation always does, and so does an email listed in ADMIN_EMAILS: otherwise nobody
    could make the first account of an invite-only deployment.
    """
    settings = get_settings()
    mode = settings.registration_mode
    if invited or mode == "open" or email.lower() in settings.admin_email_set:
        return
    if isinstance(mode, frozenset):
        if email.rsplit("@", 1)[-1].lower() in mode:
            return
        raise Forbidden("Registration here is open to invited people and to emails of the "
                        "organisation's domains only.")
    raise Forbidden("Registration here needs an invitation: ask a workspace owner to invite "
                    "this email address.")

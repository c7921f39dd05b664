"""Who may register (the REGISTRATION setting) and who becomes admin (a verified listed email)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from common.auth import accounts
from common.core.errors import Forbidden
from common.core.models import User
from common.core.settings import Settings, get_settings

# Settings every function needs; none of them matters here.
_ENV = {"EVENT_BUS_NAME": "bus", "JWT_SECRET_ARN": "jwt", "CACHE_TABLE_NAME": "cache",
        "UPLOADS_BUCKET_NAME": "uploads",
        "DIAGNOSTICS_STATE_MACHINE_ARN": "sm", "TOKEN_KEY_ID": "key",
        "DATABASE_URL": "sqlite://"}


@pytest.fixture
def configure(monkeypatch):
    def apply(**settings: str) -> None:
        for name, value in {**_ENV, **settings}.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield apply
    get_settings.cache_clear()


@pytest.mark.parametrize(("mode", "email", "invited", "allowed"), [
    ("open", "anyone@else.test", False, True),
    ("invite", "anyone@else.test", False, False),
    ("invite", "anyone@else.test", True, True),
    ("invite", "root@ops.test", False, True),  # listed in ADMIN_EMAILS: the first account
    ("domains:a.test, B.org", "x@a.test", False, True),
    ("domains:a.test, B.org", "x@b.org", False, True),
    ("domains:a.test, B.org", "x@sub.a.test", False, False),
    ("domains:a.test, B.org", "x@c.test", False, False),
    ("domains:a.test, B.org", "x@c.test", True, True),
])
def test_registration_modes(configure, mode, email, invited, allowed):
    configure(REGISTRATION=mode, ADMIN_EMAILS="Root@Ops.test")
    if allowed:
        accounts.check_registration_allowed(email, invited=invited)
    else:
        with pytest.raises(Forbidden):
            accounts.check_registration_allowed(email, invited=invited)


@pytest.mark.parametrize("mode", ["", "closed", "domains:", "domains: , "])
def test_an_unknown_registration_mode_fails_at_start(configure, mode):
    configure()
    with pytest.raises(ValidationError):
        Settings.from_environment(registration=mode)


def test_a_listed_email_is_promoted_only_once_verified(configure):
    configure(ADMIN_EMAILS="boss@example.com")
    user = User(email="boss@example.com", role="member", email_verified_at=None)
    assert accounts.promote_if_listed(user) is False and user.role == "member"
    user.email_verified_at = datetime.now(UTC)
    assert accounts.promote_if_listed(user) is True and user.role == "admin"
    other = User(email="other@example.com", role="member", email_verified_at=datetime.now(UTC))
    assert accounts.promote_if_listed(other) is False and other.role == "member"

"""Which channels (in-app, email, webhook) a user wants per event type.

Defaults (API.md): in-app on for every type except routine account activity, which stays in
the audit log; email off until asked for; webhook on (a webhook still has to subscribe to the
type). A user's `defaults` override those for every type, `types` override per type.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from common.core.db import UnitOfWork
from common.core.identity import Identity
from common.core.models import NotificationPreference, utcnow
from common.notifications.schemas import BuiltinChannels, PreferencesOut

CHANNELS = ("in_app", "email", "webhook")
DEFAULTS = {"in_app": True, "email": False, "webhook": True}
# Routine activity the user just did themselves: in the audit log, not in the inbox (unless a
# user asks for it). Security-relevant changes (password, keys, roles) do reach the inbox.
QUIET_TYPES = frozenset({"user.login", "user.login_failed", "user.logout", "user.updated",
                         "user.session_revoked", "user.email_verified",
                         "user.password_reset_requested", "workspace.created",
                         "workspace.renamed", "connection.created", "invitation.created",
                         "invitation.revoked"})


class Channels(BaseModel):
    """Channels of one event type; an absent channel keeps its default."""

    in_app: bool | None = None
    email: bool | None = None
    webhook: bool | None = None


class Preferences(BaseModel):
    """The body of GET and PUT /api/notifications/preferences."""

    defaults: Channels = Field(default_factory=Channels)
    types: dict[str, Channels] = Field(default_factory=dict, max_length=200)


def _stored(uow: UnitOfWork, user_id: str) -> Preferences:
    row = uow.session.get(NotificationPreference, user_id)
    return Preferences.model_validate(row.settings) if row else Preferences()


def get(uow: UnitOfWork, identity: Identity) -> PreferencesOut:
    """The caller's preferences with the built-in defaults they start from."""
    with uow:
        return _out(_stored(uow, identity.user_id))


def put(prefs: Preferences, uow: UnitOfWork, identity: Identity) -> PreferencesOut:
    """Replace the caller's preferences."""
    with uow:
        row = uow.session.get(NotificationPreference, identity.user_id)
        settings = prefs.model_dump(exclude_none=True)
        if row is None:
            uow.session.add(NotificationPreference(user_id=identity.user_id, settings=settings))
        else:
            row.settings, row.updated_at = settings, utcnow()
        uow.commit()
        return _out(prefs)


def channels_for(uow: UnitOfWork, user_id: str, event_type: str) -> dict[str, bool]:
    """The channels on for this user and event type (inside the caller's unit of work)."""
    prefs = _stored(uow, user_id)
    result = dict(DEFAULTS)
    if event_type in QUIET_TYPES:
        result["in_app"] = False
    for layer in (prefs.defaults, prefs.types.get(event_type)):
        if layer is not None:
            result.update(layer.model_dump(exclude_none=True))
    return result


def _out(prefs: Preferences) -> PreferencesOut:
    # Only the channels the user set: ChannelsOut leaves out the ones never set.
    return PreferencesOut(builtin=BuiltinChannels(**DEFAULTS, in_app_off_for=sorted(QUIET_TYPES)),
                          **prefs.model_dump(exclude_none=True))

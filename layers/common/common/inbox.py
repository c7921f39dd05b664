"""In-app notifications: delivering one to a user's inbox, exactly once per source event."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select

from common.db import UnitOfWork
from common.models import Notification


class InboxMessage(BaseModel):
    """A notification addressed to one user."""

    user_id: str = Field(min_length=1)
    type: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=200)
    body: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


def deliver(message: InboxMessage, source_id: str) -> bool:
    """Store the message unless `source_id` was already delivered; True when stored now."""
    with UnitOfWork() as uow:
        exists = uow.session.scalar(select(Notification.id).where(
            Notification.source_id == source_id))
        if exists:
            return False
        uow.session.add(Notification(source_id=source_id, **message.model_dump()))
        uow.commit()
    return True


# Routine account activity stays in the audit log; the inbox is for what a user should notice.
QUIET_TYPES = frozenset({"user.login", "user.login_failed", "user.logout", "user.updated",
                         "user.session_revoked"})


def from_domain_event(event: dict[str, Any]) -> InboxMessage | None:
    """The inbox message a domain event asks for, or None when it addresses nobody."""
    detail = event.get("detail") or {}
    user_id = detail.get("user_id")
    if not user_id or event.get("detail-type") in QUIET_TYPES:
        return None
    event_type = str(event.get("detail-type", "event"))
    title = detail.get("title") or event_type.replace(".", " ").capitalize()
    return InboxMessage(user_id=user_id, type=event_type, title=title,
                        body=detail.get("body", ""), data=detail)

"""In-app notifications: delivering one to a user's inbox exactly once per source, and reading."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select, update

from common.core import cursor
from common.core.db import UnitOfWork
from common.core.errors import NotFound
from common.core.identity import Identity
from common.core.models import Notification
from common.core.schemas import Page
from common.notifications.commands import ListInbox
from common.notifications.schemas import MarkedOut, NotificationOut


class InboxMessage(BaseModel):
    """A notification addressed to one user."""

    user_id: str = Field(min_length=1)
    type: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=200)
    body: str = ""
    link: str | None = Field(None, max_length=500, description="web UI path")
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


def list_for(cmd: ListInbox, uow: UnitOfWork, identity: Identity) -> Page[NotificationOut]:
    """The caller's inbox, newest first."""
    query = select(Notification).where(Notification.user_id == identity.user_id)
    if cmd.unread:
        query = query.where(Notification.read.is_(False))
    if cmd.cursor:
        stamp, last_id = cursor.decode(cmd.cursor, 2)
        at = cursor.instant(stamp)
        query = query.where(or_(Notification.created_at < at,
                                and_(Notification.created_at == at, Notification.id < last_id)))
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc())
    with uow:
        rows = [_out(n) for n in uow.session.scalars(query.limit(cmd.limit + 1))]
    page = rows[:cmd.limit]
    last = page[-1] if len(rows) > cmd.limit else None
    return Page[NotificationOut](
        items=page,
        next_cursor=cursor.encode(last.created_at.isoformat(), last.id) if last else None)


def mark_read(notification_id: str, uow: UnitOfWork, identity: Identity) -> NotificationOut:
    """Mark one of the caller's notifications read."""
    with uow:
        notification = uow.session.get(Notification, notification_id)
        if notification is None or notification.user_id != identity.user_id:
            raise NotFound("No such notification.")
        notification.read = True
        uow.commit()
        return _out(notification)


def mark_all_read(uow: UnitOfWork, identity: Identity) -> MarkedOut:
    """Mark every unread notification of the caller read."""
    with uow:
        count = uow.session.execute(update(Notification).where(
            Notification.user_id == identity.user_id, Notification.read.is_(False)).values(
            read=True)).rowcount  # type: ignore[attr-defined]
        uow.commit()
    return MarkedOut(marked=count)


def _out(n: Notification) -> NotificationOut:
    return NotificationOut(id=n.id, type=n.type, title=n.title, body=n.body, link=n.link,
                           data=n.data or {}, read=n.read, created_at=n.created_at)

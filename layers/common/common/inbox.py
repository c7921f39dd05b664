"""In-app notifications: delivering one to a user's inbox exactly once per source, and reading."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select, update

from common import cursor
from common.db import UnitOfWork
from common.errors import NotFound
from common.models import Notification


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


def list_for(uow: UnitOfWork, user_id: str, *, unread: bool, limit: int,
             after: str | None) -> dict[str, Any]:
    """The user's inbox, newest first."""
    query = select(Notification).where(Notification.user_id == user_id)
    if unread:
        query = query.where(Notification.read.is_(False))
    if after:
        stamp, last_id = cursor.decode(after, 2)
        at = cursor.instant(stamp)
        query = query.where(or_(Notification.created_at < at,
                                and_(Notification.created_at == at, Notification.id < last_id)))
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc())
    with uow:
        rows = [_out(n) for n in uow.session.scalars(query.limit(limit + 1))]
    page = rows[:limit]
    last = page[-1] if len(rows) > limit else None
    return {"items": page,
            "next_cursor": cursor.encode(last["created_at"], last["id"]) if last else None}


def mark_read(uow: UnitOfWork, user_id: str, notification_id: str) -> dict[str, Any]:
    """Mark one of the user's notifications read."""
    with uow:
        notification = uow.session.get(Notification, notification_id)
        if notification is None or notification.user_id != user_id:
            raise NotFound("No such notification.")
        notification.read = True
        uow.commit()
        return _out(notification)


def mark_all_read(uow: UnitOfWork, user_id: str) -> dict[str, int]:
    """Mark every unread notification of the user read."""
    with uow:
        count = uow.session.execute(update(Notification).where(
            Notification.user_id == user_id, Notification.read.is_(False)).values(
            read=True)).rowcount  # type: ignore[attr-defined]
        uow.commit()
    return {"marked": count}



def _out(n: Notification) -> dict[str, Any]:
    return {"id": n.id, "type": n.type, "title": n.title, "body": n.body, "link": n.link,
            "data": n.data or {}, "read": n.read, "created_at": n.created_at.isoformat()}

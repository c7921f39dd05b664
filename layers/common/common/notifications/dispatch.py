"""The dispatcher's fan-out: one domain event -> inbox, email and webhook deliveries.

Nothing here knows an event type: the user is the event's `user_id`, the workspace its
`workspace_id`, the title comes from `templates`. Every step is idempotent per event id, so
EventBridge may deliver an event twice (or retry a failed invocation) without duplicates;
email goes last, so only a failure after sending could send it twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from common.core import access
from common.core.db import UnitOfWork
from common.core.mail import send_email
from common.core.models import User, Webhook, WebhookDelivery, Workspace, new_id
from common.core.observability import logger
from common.core.settings import get_settings
from common.notifications import inbox, preferences, templates
from common.notifications.webhooks import enqueue, subscribes


def dispatch(event: dict[str, Any]) -> dict[str, Any]:
    """Fan one EventBridge event out to the channels its user and workspace ask for."""
    event_type = str(event.get("detail-type") or "event")
    detail = event.get("detail") or {}
    event_id = str(event.get("id") or new_id())
    user_id = detail.get("user_id") if isinstance(detail.get("user_id"), str) else None
    workspace_id = detail.get("workspace_id") \
        if isinstance(detail.get("workspace_id"), str) else None
    title = templates.title(event_type, detail)
    body = templates.body(detail)
    link = templates.link(event_type, detail)
    result: dict[str, Any] = {"in_app": False, "email": False, "webhooks": 0}

    with UnitOfWork() as uow:
        channels = preferences.channels_for(uow, user_id, event_type) if user_id else {}
        user = uow.session.get(User, user_id) if user_id else None
        webhooks = _webhooks_for(uow, event_type, workspace_id, user_id,
                                 channels.get("webhook", False))
        payload = {"id": event_id, "type": event_type,
                   "created_at": event.get("time"), "data": detail}
        queued = _deliveries(uow, webhooks, event_id, event_type, payload)
        uow.commit()
    if queued:
        enqueue(queued)
    result["webhooks"] = len(webhooks)

    if user_id and channels.get("in_app"):
        result["in_app"] = inbox.deliver(inbox.InboxMessage(
            user_id=user_id, type=event_type, title=title, body=body, link=link, data=detail),
            f"event:{event_id}")
    if user is not None and channels.get("email") and user.is_active \
            and user.email_verified_at is not None:
        send_email(user.email, f"[PyAirtable] {title}",
                   _email_text(title, body, event_type, link))
        result["email"] = True
    logger.info("event dispatched", extra={"event_type": event_type, "event_id": event_id,
                                           **result})
    return result


# Events only owners may read through the API (an invitation's email and role) reach only
# webhooks an owner of the workspace set up (and still owns).
OWNERS_ONLY_PREFIXES = ("invitation.",)


def _webhooks_for(uow: UnitOfWork, event_type: str, workspace_id: str | None,
                  user_id: str | None, user_allows: bool) -> list[Webhook]:
    if workspace_id:
        candidates = uow.session.scalars(select(Webhook).where(
            Webhook.workspace_id == workspace_id))
    elif user_id and user_allows:
        candidates = uow.session.scalars(select(Webhook).join(
            Workspace, Workspace.id == Webhook.workspace_id).where(
            Workspace.personal_of == user_id, Webhook.created_by == user_id))
    else:
        return []
    found = [w for w in candidates if subscribes(list(w.events), event_type)]
    if event_type.startswith(OWNERS_ONLY_PREFIXES):
        found = [w for w in found if w.created_by and access.role_in(
            uow, w.created_by, w.workspace_id) == "owner"]
    return found


def _deliveries(uow: UnitOfWork, webhooks: list[Webhook], event_id: str, event_type: str,
                payload: dict[str, Any]) -> list[str]:
    """Delivery rows for this event (once per webhook); the ids still to be queued."""
    queued = []
    for webhook in webhooks:
        existing = uow.session.scalar(select(WebhookDelivery).where(
            WebhookDelivery.webhook_id == webhook.id, WebhookDelivery.event_id == event_id))
        if existing is None:
            existing = WebhookDelivery(id=new_id(), webhook_id=webhook.id, event_id=event_id,
                                       event_type=event_type, payload=payload, status="pending",
                                       attempts=0)
            uow.session.add(existing)
            queued.append(existing.id)
        elif existing.status == "pending" and existing.attempts == 0:
            # A retried event whose first run stored the row but failed before queuing it.
            queued.append(existing.id)
    return queued


def _email_text(title: str, body: str, event_type: str, link: str | None) -> str:
    web = get_settings().web_url.rstrip("/")
    return "\n\n".join(part for part in (
        title, body, f"Open it: {web}{link}" if link else "", f"Event: {event_type}",
        f"See your notifications: {web}/notifications",
        "You receive this email because email is on for this event type in your notification "
        "preferences.") if part)

"""Outbound webhooks of a workspace: create, list, delete, the delivery log and redelivery.

Who receives what (decided here, written in API.md's terms): a webhook belongs to a workspace
and subscribes to event types (exact, `prefix.*` or `*`). It receives the events concerning its
workspace (the event's `workspace_id`), and the user-level events (no `workspace_id`: password
changes, API keys, ...) of the user who created it, when it lives in that user's personal
workspace and the user's `webhook` channel is on for that type. Nobody else's personal events
reach a shared workspace's endpoint.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import and_, or_, select

from common.core import cursor, outbound
from common.core.access import (
    member_workspace_ids,
    require_role,
    resolve_workspace,
    role_in,
)
from common.core.aws import client
from common.core.db import UnitOfWork
from common.core.errors import Conflict, NotFound, UpstreamError
from common.core.identity import Identity
from common.core.models import Webhook, WebhookAttempt, WebhookDelivery, new_id, utcnow
from common.core.schemas import Page
from common.core.settings import get_settings
from common.notifications.commands import ListDeliveries, ListWebhooks, RetryDelivery
from common.notifications.schemas import AttemptOut, DeliveryOut, WebhookCreatedOut, WebhookOut

SIGNATURE_HEADER = "X-PyAirtable-Signature"
_EVENT_PATTERN = re.compile(r"^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$")
RETRYABLE = frozenset({"failed", "dead_lettered", "refused"})


class WebhookIn(BaseModel):
    """POST /api/notifications/webhooks."""

    url: str = Field(min_length=1, max_length=2048)
    events: list[str] = Field(min_length=1, max_length=50)
    workspace_id: str | None = Field(default=None, max_length=32)

    @field_validator("events")
    @classmethod
    def _event_patterns(cls, events: list[str]) -> list[str]:
        for event in events:
            if not _EVENT_PATTERN.match(event) or len(event) > 100:
                raise ValueError(f"{event!r} is not an event type, `prefix.*` or `*`")
        return list(dict.fromkeys(events))


def subscribes(patterns: list[str], event_type: str) -> bool:
    """Whether a webhook with these patterns wants `event_type`."""
    return any(p == "*" or p == event_type or (p.endswith(".*") and event_type.startswith(p[:-1]))
               for p in patterns)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def create(cmd: WebhookIn, uow: UnitOfWork, identity: Identity) -> WebhookCreatedOut:
    """A new webhook; its secret is returned now and never again."""
    outbound.check_url(cmd.url)
    secret = "whsec_" + secrets.token_urlsafe(32)
    with uow:
        workspace_id = resolve_workspace(uow, identity.user_id, cmd.workspace_id, "editor")
        webhook = Webhook(id=new_id(), workspace_id=workspace_id, created_by=identity.user_id,
                          url=cmd.url, events=cmd.events, created_at=utcnow())
        webhook.secret_ciphertext = _encrypt(secret, webhook.id)
        uow.session.add(webhook)
        uow.commit()
        return WebhookCreatedOut(**_out(webhook).model_dump(), secret=secret)


def list_webhooks(cmd: ListWebhooks, uow: UnitOfWork, identity: Identity) -> Page[WebhookOut]:
    """Webhooks of one or all of the caller's workspaces, newest first."""
    with uow:
        workspaces = member_workspace_ids(uow, identity.user_id, cmd.workspace_id)
        query = select(Webhook).where(Webhook.workspace_id.in_(workspaces))
        rows = _page(uow, query, Webhook.created_at, Webhook.id, cmd.limit, cmd.cursor)
        return _page_out(WebhookOut, [_out(w) for w in rows], cmd.limit)


def delete(webhook_id: str, uow: UnitOfWork, identity: Identity) -> None:
    """Remove a webhook (editors of its workspace) with its delivery log."""
    with uow:
        webhook = _accessible(uow, identity, webhook_id, "editor")
        uow.session.delete(webhook)
        uow.commit()


def deliveries(cmd: ListDeliveries, uow: UnitOfWork, identity: Identity) -> Page[DeliveryOut]:
    """The webhook's delivery log, newest first, each delivery with its attempts."""
    with uow:
        _accessible(uow, identity, cmd.webhook_id, "viewer")
        query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == cmd.webhook_id)
        rows = _page(uow, query, WebhookDelivery.created_at, WebhookDelivery.id, cmd.limit,
                     cmd.cursor)
        attempts: dict[str, list[WebhookAttempt]] = {}
        if rows:
            for attempt in uow.session.scalars(select(WebhookAttempt).where(
                    WebhookAttempt.delivery_id.in_([d.id for d in rows])).order_by(
                    WebhookAttempt.number)):
                attempts.setdefault(attempt.delivery_id, []).append(attempt)
        return _page_out(DeliveryOut, [delivery_out(d, attempts.get(d.id, [])) for d in rows],
                         cmd.limit)


def retry(cmd: RetryDelivery, uow: UnitOfWork, identity: Identity) -> DeliveryOut:
    """Send a failed, refused or dead-lettered delivery again (once more through the queue)."""
    with uow:
        _accessible(uow, identity, cmd.webhook_id, "editor")
        delivery = uow.session.get(WebhookDelivery, cmd.delivery_id)
        if delivery is None or delivery.webhook_id != cmd.webhook_id:
            raise NotFound("No such delivery.")
        if delivery.status not in RETRYABLE:
            raise Conflict(f"This delivery is {delivery.status}; only failed, refused or "
                           "dead-lettered deliveries can be sent again.")
        delivery.status, delivery.claimed_until, delivery.updated_at = "pending", None, utcnow()
        uow.commit()
        enqueue([delivery.id])
        return delivery_out(delivery, [])


def enqueue(delivery_ids: list[str]) -> None:
    """Queue deliveries for the delivery function (10 per SQS call)."""
    url = get_settings().webhook_queue_url
    for start in range(0, len(delivery_ids), 10):
        chunk = delivery_ids[start:start + 10]
        try:
            response = client("sqs").send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "MessageBody": json.dumps({"delivery_id": d})}
                for i, d in enumerate(chunk)])
        except (ClientError, BotoCoreError) as e:
            raise UpstreamError("The delivery could not be queued.") from e
        if response.get("Failed"):
            raise UpstreamError("The delivery could not be queued.")


def secret_of(webhook: Webhook) -> str:
    """The webhook's signing secret (KMS, bound to the webhook's id)."""
    try:
        plain = client("kms").decrypt(
            CiphertextBlob=base64.b64decode(webhook.secret_ciphertext),
            EncryptionContext={"webhook_id": webhook.id})["Plaintext"]
    except (ClientError, BotoCoreError) as e:
        raise UpstreamError("The webhook's secret cannot be decrypted.") from e
    return plain.decode()


def _encrypt(secret: str, webhook_id: str) -> str:
    try:
        blob = client("kms").encrypt(KeyId=get_settings().token_key_id, Plaintext=secret.encode(),
                                     EncryptionContext={"webhook_id": webhook_id})
    except (ClientError, BotoCoreError) as e:
        raise UpstreamError("The webhook's secret could not be encrypted.") from e
    return base64.b64encode(blob["CiphertextBlob"]).decode()


def _accessible(uow: UnitOfWork, identity: Identity, webhook_id: str, minimum: str) -> Webhook:
    webhook = uow.session.get(Webhook, webhook_id)
    if webhook is None or role_in(uow, identity.user_id, webhook.workspace_id) is None:
        raise NotFound("No such webhook.")
    require_role(uow, identity.user_id, webhook.workspace_id, minimum)  # type: ignore[arg-type]
    return webhook


def _page(uow: UnitOfWork, query: Any, created: Any, key: Any, limit: int,
          after: str | None) -> list[Any]:
    if after:
        stamp, last_id = cursor.decode(after, 2)
        at = cursor.instant(stamp)
        query = query.where(or_(created < at, and_(created == at, key < last_id)))
    return list(uow.session.scalars(query.order_by(created.desc(), key.desc()).limit(limit + 1)))


Listed = TypeVar("Listed", WebhookOut, DeliveryOut)


def _page_out(model: type[Listed], items: list[Listed], limit: int) -> Page[Listed]:
    page = items[:limit]
    last = page[-1] if len(items) > limit else None
    stamp = last.created_at.isoformat() if last and last.created_at else None
    return Page[model](  # type: ignore[valid-type]
        items=page, next_cursor=cursor.encode(stamp, last.id) if last else None)


def _out(webhook: Webhook) -> WebhookOut:
    return WebhookOut(id=webhook.id, url=webhook.url, events=list(webhook.events),
                      workspace_id=webhook.workspace_id, created_by=webhook.created_by,
                      created_at=webhook.created_at)


def delivery_out(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryOut:
    """A delivery as the delivery log shows it."""
    return DeliveryOut(
        id=delivery.id, webhook_id=delivery.webhook_id, event_id=delivery.event_id,
        type=delivery.event_type, status=delivery.status, attempts=delivery.attempts,
        last_status_code=delivery.last_status_code, last_error=delivery.last_error,
        created_at=delivery.created_at, updated_at=delivery.updated_at,
        delivered_at=delivery.delivered_at,
        attempt_log=[AttemptOut(number=a.number, at=a.attempted_at, status_code=a.status_code,
                                error=a.error, duration_ms=a.duration_ms) for a in attempts])

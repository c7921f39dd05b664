"""Sending one webhook delivery: claim it, sign it, POST it, log the attempt.

A delivery is sent at most once successfully: a delivered one is never sent again, and a
sender claims it (for longer than a send can take) so that a duplicate queue message waits.
A refused address (checked again on the resolved address at send time) is final: nothing is
sent, and retrying it would ask the same question of the same DNS.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, update

from common.core import outbound
from common.core.db import UnitOfWork
from common.core.models import Webhook, WebhookAttempt, WebhookDelivery, new_id, utcnow
from common.core.observability import logger
from common.notifications.webhooks import SIGNATURE_HEADER, secret_of, signature

SEND_TIMEOUT = 10.0
CLAIM = timedelta(seconds=60)
MAX_ERROR = 500


class DeliveryFailed(Exception):
    """The target did not accept the delivery; the queue will offer it again."""


class DeliveryBusy(Exception):
    """Another sender holds this delivery right now."""


@dataclass
class Outcome:
    """What one attempt did."""

    status: str
    status_code: int | None = None
    error: str | None = None


def attempt(delivery_id: str, *, final: bool) -> Outcome:
    """Try to send once; `final` when the queue will not offer the message again."""
    claimed = _claim(delivery_id)
    if claimed is None:
        return Outcome("skipped")
    delivery, webhook = claimed
    body = json.dumps(delivery.payload, separators=(",", ":"), default=str).encode()
    started = time.perf_counter()
    try:
        stamp = int(time.time())
        response = outbound.send("POST", webhook.url, body=body, timeout=SEND_TIMEOUT,
                                 max_response_bytes=64 * 1024, headers={
                                     "Content-Type": "application/json",
                                     SIGNATURE_HEADER: signature(secret_of(webhook), stamp, body),
                                     "X-PyAirtable-Event": delivery.event_type,
                                     "X-PyAirtable-Delivery": delivery.id})
        if 200 <= response.status < 300:
            outcome = Outcome("delivered", response.status)
        else:
            outcome = Outcome("failed", response.status, f"HTTP {response.status}")
    except outbound.RefusedTarget as e:
        outcome = Outcome("refused", None, f"refused: {e.problem}")
    except outbound.OutboundError as e:
        outcome = Outcome("failed", None, e.message)
    elapsed = round((time.perf_counter() - started) * 1000, 1)
    if outcome.status == "failed":
        outcome.status = "dead_lettered" if final else "retrying"
    _record(delivery.id, outcome, elapsed)
    logger.info("webhook delivery attempt", extra={
        "delivery_id": delivery.id, "webhook_id": webhook.id, "status": outcome.status,
        "status_code": outcome.status_code})
    if outcome.status in ("retrying", "dead_lettered"):
        raise DeliveryFailed(outcome.error or "not delivered")
    return outcome


def _claim(delivery_id: str) -> tuple[WebhookDelivery, Webhook] | None:
    """The delivery and its webhook, now held by this sender; None when there is nothing to do."""
    now = utcnow()
    with UnitOfWork() as uow:
        held = uow.session.execute(update(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status.in_(("pending", "retrying", "sending")),
            or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now),
        ).values(status="sending", claimed_until=now + CLAIM,
                 updated_at=now)).rowcount  # type: ignore[attr-defined]
        delivery = uow.session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            return None  # the webhook was deleted with its log
        if not held:
            if delivery.status == "sending":
                raise DeliveryBusy(delivery_id)
            return None  # delivered, refused or dead-lettered already: nothing more to send
        webhook = uow.session.get(Webhook, delivery.webhook_id)
        uow.commit()
        return (delivery, webhook) if webhook else None


def _record(delivery_id: str, outcome: Outcome, elapsed_ms: float) -> None:
    with UnitOfWork() as uow:
        delivery = uow.session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            return
        at = utcnow()
        delivery.attempts += 1
        error = (outcome.error or "")[:MAX_ERROR] or None
        uow.session.add(WebhookAttempt(id=new_id(), delivery_id=delivery.id,
                                       number=delivery.attempts, attempted_at=at,
                                       status_code=outcome.status_code, error=error,
                                       duration_ms=elapsed_ms))
        delivery.status, delivery.claimed_until, delivery.updated_at = outcome.status, None, at
        delivery.last_status_code, delivery.last_error = outcome.status_code, error
        if outcome.status == "delivered":
            delivery.delivered_at = at
        uow.commit()

"""Response models of the notifications API: the inbox, preferences, webhooks, deliveries."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from common.core.schemas import IsoTime, Sparse


class NotificationOut(BaseModel):
    """One notification of the caller's inbox."""

    id: str
    type: str
    title: str
    body: str
    link: str | None
    data: dict[str, Any]
    read: bool
    created_at: IsoTime


class MarkedOut(BaseModel):
    """How many notifications read-all marked read."""

    marked: int


class ChannelsOut(Sparse):
    """The channels a user set for an event type (or all); an absent one keeps its default."""

    in_app: bool | None = None
    email: bool | None = None
    webhook: bool | None = None


class BuiltinChannels(BaseModel):
    """The defaults every user starts from, and the types whose in-app default is off."""

    in_app: bool
    email: bool
    webhook: bool
    in_app_off_for: list[str]


class PreferencesOut(BaseModel):
    """The caller's channel preferences with the built-in defaults they start from."""

    builtin: BuiltinChannels
    defaults: ChannelsOut
    types: dict[str, ChannelsOut]


class WebhookOut(BaseModel):
    """An outbound webhook of a workspace (never its secret)."""

    id: str
    url: str
    events: list[str]
    workspace_id: str
    created_by: str | None
    created_at: IsoTime | None


class WebhookCreatedOut(WebhookOut):
    """A webhook just created, with its signing secret (shown this once)."""

    secret: str


class AttemptOut(BaseModel):
    """One attempt of a delivery."""

    number: int
    at: IsoTime | None
    status_code: int | None
    error: str | None
    duration_ms: float


class DeliveryOut(BaseModel):
    """A delivery of an event to a webhook, with its attempts."""

    id: str
    webhook_id: str
    event_id: str
    type: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: IsoTime | None
    updated_at: IsoTime | None
    delivered_at: IsoTime | None
    attempt_log: list[AttemptOut]

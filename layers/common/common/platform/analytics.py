"""Platform analytics: recorded events, per-user usage per day and per-service metrics.

Usage and metrics come from the functions' EMF log lines (`common.core.usage`), summed by the
usage aggregator one log batch at a time: a request costs no database write of its own, and a
batch delivered twice (CloudWatch Logs retries a failed invocation) is counted once.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select

from common.core.clock import as_utc
from common.core.db import UnitOfWork
from common.core.errors import RateLimited, ValidationFailed
from common.core.identity import Identity
from common.core.models import AnalyticsEvent, ServiceLatency, UsageBatch, UsageDay, new_id, utcnow
from common.core.schemas import IsoTime
from common.core.settings import get_settings
from common.core.usage import AIRTABLE_REQUESTS, LATENCY

# Latency histogram: bucket i holds (0.1 * 1.1^(i-1), 0.1 * 1.1^i] ms, so a percentile read
# from it is within 10 % of the true value.
_BASE_MS, _GROWTH = 0.1, 1.1


class AnalyticsEventIn(BaseModel):
    """POST /api/platform/events."""

    event_type: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("data")
    @classmethod
    def _small(cls, data: dict[str, Any]) -> dict[str, Any]:

        limit = get_settings().analytics_event_max_bytes
        if len(json.dumps(data, default=str).encode()) > limit:
            raise ValueError(f"at most {limit} bytes of JSON (analytics_event_max_bytes)")
        return data


class EventOut(BaseModel):
    """An analytics event as recorded."""

    id: str
    event_type: str
    data: dict[str, Any]
    occurred_at: IsoTime


@dataclass(frozen=True, kw_only=True)
class UsageQuery:
    """GET /api/platform/usage: how many days back from today."""

    days: int = 30


class UsageDayOut(BaseModel):
    """The caller's counts of one UTC day."""

    date: str
    api_calls: int
    airtable_requests: int
    errors: int


class UsageTotals(BaseModel):
    """The counts summed over the days shown."""

    api_calls: int
    airtable_requests: int
    errors: int


class UsageOut(BaseModel):
    """The caller's usage per day, newest first, and its totals."""

    user_id: str
    days: int
    items: list[UsageDayOut]
    totals: UsageTotals


@dataclass(frozen=True, kw_only=True)
class MetricsQuery:
    """GET /api/platform/metrics: the time range (default: the last 24 hours) and a service."""

    since: datetime | None = None
    until: datetime | None = None
    service: str | None = None


class Percentiles(BaseModel):
    """Latency percentiles in milliseconds (null without requests)."""

    p50: float | None
    p95: float | None
    p99: float | None


class ServiceMetricsOut(BaseModel):
    """One service's requests, errors and latency over the range."""

    requests: int
    server_errors: int
    client_errors: int
    error_rate: float
    latency_ms: Percentiles


class MetricsOut(BaseModel):
    """Requests, error rate and latency percentiles per service over whole hours."""

    since: IsoTime
    until: IsoTime
    granularity: str
    services: dict[str, ServiceMetricsOut]


def record_event(cmd: AnalyticsEventIn, uow: UnitOfWork, identity: Identity) -> EventOut:
    """Store one analytics event of the caller (429 past the per-minute quota)."""
    with uow:
        _within_rate(uow, identity.user_id)
        event = AnalyticsEvent(id=new_id(), user_id=identity.user_id, event_type=cmd.event_type,
                               data=cmd.data, occurred_at=utcnow())
        uow.session.add(event)
        uow.commit()
        return EventOut(id=event.id, event_type=event.event_type, data=event.data,
                        occurred_at=event.occurred_at)


def _within_rate(uow: UnitOfWork, user_id: str) -> None:
    """One member's events per minute are bounded (analytics_events_per_minute)."""

    limit, since = get_settings().analytics_events_per_minute, utcnow() - timedelta(minutes=1)
    recent = list(uow.session.scalars(select(AnalyticsEvent.occurred_at).where(
        AnalyticsEvent.user_id == user_id, AnalyticsEvent.occurred_at > since).order_by(
        AnalyticsEvent.occurred_at).limit(limit)))
    if len(recent) >= limit:
        wait = (recent[0] + timedelta(minutes=1) - utcnow()).total_seconds()
        raise RateLimited(f"At most {limit} analytics events a minute "
                          "(analytics_events_per_minute).", retry_after=int(wait) + 1)


# ---------------------------------------------------------------- aggregation
def bucket_of(ms: float) -> int:
    """The histogram bucket of a latency."""
    if ms <= _BASE_MS:
        return 0
    return max(0, math.ceil(math.log(ms / _BASE_MS, _GROWTH) - 1e-9))


def bucket_ceiling(bucket: int) -> float:
    """The largest latency a bucket holds (what a percentile reports)."""
    return round(_BASE_MS * _GROWTH ** bucket, 1)


def decode_awslogs(data: str) -> dict[str, Any]:
    """A CloudWatch Logs subscription payload (base64 of gzip of JSON)."""
    return json.loads(gzip.decompress(base64.b64decode(data)))


def ingest(payload: dict[str, Any]) -> dict[str, int]:
    """Sum one batch of log events into usage and latency rows (once per batch)."""
    events = payload.get("logEvents") or []
    requests = [r for r in (_request_line(e.get("message", "")) for e in events) if r]
    if not requests:
        return {"requests": 0}
    batch_id = hashlib.sha256("|".join(sorted(
        f"{payload.get('logGroup')}:{e.get('id')}" for e in events)).encode()).hexdigest()
    days: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    latency: dict[tuple[str, str, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in requests:
        at = datetime.fromtimestamp(r["at"] / 1000, UTC)
        if r["user_id"]:
            row = days[(r["user_id"], at.strftime("%Y-%m-%d"))]
            row[0] += 1
            row[1] += r["airtable"]
            row[2] += r["status"] >= 400
        cell = latency[(r["service"], at.strftime("%Y-%m-%dT%H"), bucket_of(r["latency"]))]
        cell[0] += 1
        cell[1] += 400 <= r["status"] < 500
        cell[2] += r["status"] >= 500
    with UnitOfWork() as uow:
        if uow.session.get(UsageBatch, batch_id) is not None:
            return {"requests": 0, "duplicate": 1}
        uow.session.add(UsageBatch(id=batch_id, processed_at=utcnow()))
        uow.flush()
        # Sorted keys: concurrent aggregators lock rows in the same order (no deadlocks).
        _add(uow, UsageDay, ("user_id", "day"), ("api_calls", "airtable_requests", "errors"),
             sorted(days.items()))
        _add(uow, ServiceLatency, ("service", "hour", "bucket"),
             ("requests", "client_errors", "server_errors"), sorted(latency.items()))
        uow.commit()
    return {"requests": len(requests)}


def _request_line(message: str) -> dict[str, Any] | None:
    """The request an EMF line describes, or None for any other log line."""
    if '"_aws"' not in message or '"status_code"' not in message:
        return None
    try:
        line = json.loads(message)
        latency = line.get(LATENCY)
        latency = latency[0] if isinstance(latency, list) else latency
        airtable = line.get(AIRTABLE_REQUESTS, 0)
        airtable = sum(airtable) if isinstance(airtable, list) else airtable
        return {"at": int(line["_aws"]["Timestamp"]), "service": str(line.get("service", "?"))[:32],
                "user_id": str(line["user_id"])[:32] if line.get("user_id") else None,
                "status": int(line["status_code"]), "latency": float(latency or 0),
                "airtable": int(airtable or 0)}
    except (ValueError, KeyError, TypeError):
        return None


def _add(uow: UnitOfWork, model: Any, keys: tuple[str, ...], counters: tuple[str, ...],
         rows: list[tuple[tuple[Any, ...], list[int]]]) -> None:
    """INSERT ... ON CONFLICT DO UPDATE SET counter = counter + new (PostgreSQL and SQLite)."""
    if not rows:
        return
    if uow.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    values = [{**dict(zip(keys, key, strict=True)), **dict(zip(counters, counts, strict=True))}
              for key, counts in rows]
    statement = insert(model).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={c: getattr(model, c) + getattr(statement.excluded, c) for c in counters})
    uow.session.execute(statement)


# ---------------------------------------------------------------- views
def usage(cmd: UsageQuery, uow: UnitOfWork, identity: Identity) -> UsageOut:
    """The caller's API calls, Airtable requests and errors per UTC day, newest first."""
    first = (utcnow() - timedelta(days=cmd.days - 1)).strftime("%Y-%m-%d")
    with uow:
        items = [UsageDayOut(date=r.day, api_calls=r.api_calls,
                             airtable_requests=r.airtable_requests, errors=r.errors)
                 for r in uow.session.scalars(select(UsageDay).where(
                     UsageDay.user_id == identity.user_id, UsageDay.day >= first).order_by(
                     UsageDay.day.desc()))]
    totals = UsageTotals(api_calls=sum(i.api_calls for i in items),
                         airtable_requests=sum(i.airtable_requests for i in items),
                         errors=sum(i.errors for i in items))
    return UsageOut(user_id=identity.user_id, days=cmd.days, items=items, totals=totals)


def service_metrics(cmd: MetricsQuery, uow: UnitOfWork, identity: Identity) -> MetricsOut:
    """Requests, error rate and latency percentiles per service over whole hours (admins)."""
    return metrics_between(uow, cmd.since and as_utc(cmd.since), cmd.until and as_utc(cmd.until),
                           cmd.service)


def metrics_between(uow: UnitOfWork, since: datetime | None, until: datetime | None,
                    service: str | None = None) -> MetricsOut:
    """Per-service metrics over the whole hours of [since, until] (default: the last 24 hours)."""
    until = until or utcnow()
    since = since or until - timedelta(hours=24)
    if since >= until:
        raise ValidationFailed("`since` must be before `until`.",
                               details=[{"field": "since", "problem": "not before until"}])
    query = select(ServiceLatency).where(ServiceLatency.hour >= since.strftime("%Y-%m-%dT%H"),
                                         ServiceLatency.hour <= until.strftime("%Y-%m-%dT%H"))
    if service:
        query = query.where(ServiceLatency.service == service)
    per_service: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(
        lambda: [0, 0, 0]))
    with uow:
        for r in uow.session.scalars(query):
            cell = per_service[r.service][r.bucket]
            cell[0] += r.requests
            cell[1] += r.client_errors
            cell[2] += r.server_errors
    services = {name: ServiceMetricsOut.model_validate(_summary(buckets))
                for name, buckets in sorted(per_service.items())}
    return MetricsOut(since=since, until=until, granularity="hour", services=services)


def _summary(buckets: dict[int, list[int]]) -> dict[str, Any]:
    total = sum(c[0] for c in buckets.values())
    server = sum(c[2] for c in buckets.values())
    client = sum(c[1] for c in buckets.values())
    return {"requests": total, "server_errors": server, "client_errors": client,
            "error_rate": round(server / total, 4) if total else 0.0,
            "latency_ms": {f"p{p}": _percentile(buckets, total, p / 100) for p in (50, 95, 99)}}


def _percentile(buckets: dict[int, list[int]], total: int, fraction: float) -> float | None:
    if not total:
        return None
    needed, seen = math.ceil(total * fraction), 0
    for bucket in sorted(buckets):
        seen += buckets[bucket][0]
        if seen >= needed:
            return bucket_ceiling(bucket)
    return bucket_ceiling(max(buckets))

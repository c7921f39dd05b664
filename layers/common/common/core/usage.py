"""Per-request usage as EMF metrics: nothing on a request's path touches the database.

Each HTTP invocation's EMF line (flushed by Powertools' `log_metrics`) carries the request's
latency and, as metadata, its status code, route and caller; the Airtable client adds one
`AirtableRequests` count per request it sends. The usage aggregator (subscribed to the HTTP
functions' log groups) sums those lines in batches into per-user days and per-service
latency histograms (`common.platform.analytics`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from aws_lambda_powertools.metrics import MetricUnit

from common.core.observability import metrics, own_line

LATENCY = "ApiLatency"
AIRTABLE_REQUESTS = "AirtableRequests"
# Airtable answered 429: the base is locked out for 30 s (one line per answer, dimension base).
AIRTABLE_429S = "Airtable429s"
BASE = "base"

Handler = TypeVar("Handler", bound=Callable[..., Any])

# This invocation's Airtable requests per base, written when it ends (`per_base_metrics`).
_base_requests: Counter[str] = Counter()


def record_request(event: dict[str, Any], status_code: int, elapsed_ms: float) -> None:
    """Add this request's latency, status, route and caller to the invocation's EMF line."""
    context = event.get("requestContext") or {}
    authorizer = (context.get("authorizer") or {}).get("lambda") or {}
    metrics.add_metric(name=LATENCY, unit=MetricUnit.Milliseconds, value=round(elapsed_ms, 2))
    metrics.add_metadata(key="status_code", value=int(status_code))
    metrics.add_metadata(key="route", value=str(context.get("routeKey") or ""))
    if authorizer.get("user_id"):
        metrics.add_metadata(key="user_id", value=str(authorizer["user_id"]))


def count_airtable_request(base_id: str | None = None) -> None:
    """One request sent to Airtable on behalf of the current invocation (and of its base)."""
    metrics.add_metric(name=AIRTABLE_REQUESTS, unit=MetricUnit.Count, value=1)
    if base_id:
        _base_requests[base_id] += 1


def count_airtable_429(base_id: str) -> None:
    """Airtable answered 429 for `base_id` (written at once: the invocation may not end well)."""
    _per_base(AIRTABLE_429S, base_id, 1)


def flush_base_requests() -> None:
    """Write this invocation's Airtable requests per base, one EMF line per base."""
    for base_id, count in _base_requests.items():
        _per_base(AIRTABLE_REQUESTS, base_id, count)
    _base_requests.clear()


def per_base_metrics(handler: Handler) -> Handler:
    """`handler`, after which its invocation's Airtable requests per base are written."""

    @wraps(handler)
    def lambda_handler(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        finally:
            flush_base_requests()

    return lambda_handler  # type: ignore[return-value]


def _per_base(name: str, base_id: str, value: float) -> None:
    with own_line(name, value, {BASE: base_id}):
        pass

"""Per-request usage as EMF metrics: nothing on a request's path touches the database.

Each HTTP invocation's EMF line (flushed by Powertools' `log_metrics`) carries the request's
latency and, as metadata, its status code, route and caller; the Airtable client adds one
`AirtableRequests` count per request it sends. The usage aggregator (subscribed to the HTTP
functions' log groups) sums those lines in batches into per-user days and per-service
latency histograms (`common.analytics`).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from common.observability import metrics

LATENCY = "ApiLatency"
AIRTABLE_REQUESTS = "AirtableRequests"


def record_request(event: dict[str, Any], status_code: int, elapsed_ms: float) -> None:
    """Add this request's latency, status, route and caller to the invocation's EMF line."""
    context = event.get("requestContext") or {}
    authorizer = (context.get("authorizer") or {}).get("lambda") or {}
    metrics.add_metric(name=LATENCY, unit=MetricUnit.Milliseconds, value=round(elapsed_ms, 2))
    metrics.add_metadata(key="status_code", value=int(status_code))
    metrics.add_metadata(key="route", value=str(context.get("routeKey") or ""))
    if authorizer.get("user_id"):
        metrics.add_metadata(key="user_id", value=str(authorizer["user_id"]))


def count_airtable_request() -> None:
    """One request sent to Airtable on behalf of the current invocation."""
    metrics.add_metric(name=AIRTABLE_REQUESTS, unit=MetricUnit.Count, value=1)

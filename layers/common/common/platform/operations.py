"""What an operator checks first (admins): alarms, dead letters, failed executions, error rates.

Everything is read live from the services that hold it: CloudWatch's alarms and metrics, the
dead-letter queues' depths, Step Functions' execution lists, and the usage aggregator's
per-service counts in the database.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select

from common.core.aws import client
from common.core.clock import as_utc, now
from common.core.db import UnitOfWork
from common.core.identity import Identity
from common.core.models import WebhookDelivery
from common.core.observability import NAMESPACE
from common.core.settings import get_settings, name_pairs
from common.core.usage import AIRTABLE_429S, BASE
from common.platform import analytics

WINDOW = timedelta(hours=24)
# The 5xx rate is over the last whole hours the usage aggregator has summed.
RATE_WINDOW = timedelta(hours=1)
FAILED_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")
MAX_EXECUTIONS = 50


class Alarm(BaseModel):
    """One of the stack's CloudWatch alarms as it stands."""

    name: str
    state: str
    reason: str
    description: str
    updated_at: datetime | None


class DeadLetterQueue(BaseModel):
    """A dead-letter queue's depth (messages waiting to be looked at)."""

    name: str
    depth: int
    in_flight: int


class FailedWebhookDelivery(BaseModel):
    """A webhook delivery that was dead-lettered in the window; its retry route sends it again."""

    id: str
    webhook_id: str
    event_type: str
    attempts: int
    last_error: str | None
    updated_at: datetime
    retry: str


class FailedExecution(BaseModel):
    """A state machine execution that failed, timed out or was aborted in the window."""

    state_machine: str
    name: str
    status: str
    started_at: datetime
    stopped_at: datetime | None
    link: str


class ServiceErrors(BaseModel):
    """A service's 5xx answers against its requests."""

    service: str
    requests: int
    server_errors: int
    error_rate: float


class BaseThrottling(BaseModel):
    """429 answers Airtable gave for one base in the window."""

    base_id: str
    responses_429: int


class Operations(BaseModel):
    """The operations view (GET /api/platform/operations)."""

    generated_at: datetime
    window_hours: int
    alarms: list[Alarm]
    dead_letter_queues: list[DeadLetterQueue]
    failed_webhook_deliveries: list[FailedWebhookDelivery]
    failed_executions: list[FailedExecution]
    http_5xx: list[ServiceErrors]
    airtable_429s: list[BaseThrottling]


def overview(uow: UnitOfWork, identity: Identity) -> Operations:
    """Every part read at once (each is a few AWS calls; admins)."""
    at = now()
    since = at - WINDOW
    with ThreadPoolExecutor(max_workers=4) as pool:
        alarms = pool.submit(_alarms)
        queues = pool.submit(_dead_letter_queues)
        executions = pool.submit(_failed_executions, since)
        throttling = pool.submit(_airtable_429s, since, at)
        deliveries = _failed_deliveries(uow, since)
        errors = _http_5xx(uow, at)
        return Operations(generated_at=at, window_hours=int(WINDOW.total_seconds() // 3600),
                          alarms=alarms.result(), dead_letter_queues=queues.result(),
                          failed_webhook_deliveries=deliveries,
                          failed_executions=executions.result(), http_5xx=errors,
                          airtable_429s=throttling.result())


def _alarms() -> list[Alarm]:
    prefix = get_settings().alarm_name_prefix
    pages = client("cloudwatch").get_paginator("describe_alarms").paginate(
        AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm"])
    return sorted((Alarm(name=a["AlarmName"].removeprefix(prefix), state=a["StateValue"],
                         reason=a.get("StateReason", ""),
                         description=a.get("AlarmDescription", ""),
                         updated_at=a.get("StateUpdatedTimestamp"))
                   for page in pages for a in page["MetricAlarms"]),
                  key=lambda a: (a.state != "ALARM", a.name))


def _dead_letter_queues() -> list[DeadLetterQueue]:
    sqs = client("sqs")
    found = []
    for name, url in name_pairs(get_settings().dead_letter_queues).items():
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        found.append(DeadLetterQueue(
            name=name, depth=int(attributes["ApproximateNumberOfMessages"]),
            in_flight=int(attributes["ApproximateNumberOfMessagesNotVisible"])))
    return found


def _failed_deliveries(uow: UnitOfWork, since: datetime) -> list[FailedWebhookDelivery]:
    with uow:
        rows = uow.session.scalars(select(WebhookDelivery).where(
            WebhookDelivery.status == "dead_lettered", WebhookDelivery.updated_at >= since)
            .order_by(WebhookDelivery.updated_at.desc()).limit(MAX_EXECUTIONS)).all()
        return [FailedWebhookDelivery(
            id=d.id, webhook_id=d.webhook_id, event_type=d.event_type, attempts=d.attempts,
            last_error=d.last_error, updated_at=d.updated_at,
            retry=f"/api/notifications/webhooks/{d.webhook_id}/deliveries/{d.id}/retry")
            for d in rows]


def _failed_executions(since: datetime) -> list[FailedExecution]:
    # Express machines (onboarding) have no execution list: their failures are in their log
    # group and the failed-executions alarm.
    states = client("stepfunctions")
    found = []
    for machine, arn in name_pairs(get_settings().operated_state_machines).items():
        for status in FAILED_STATUSES:
            pages = states.get_paginator("list_executions").paginate(
                stateMachineArn=arn, statusFilter=status)
            for page in pages:
                recent = [e for e in page["executions"] if as_utc(e["startDate"]) >= since]
                found += [FailedExecution(
                    state_machine=machine, name=e["name"], status=e["status"],
                    started_at=e["startDate"], stopped_at=e.get("stopDate"),
                    link=_console_link(e["executionArn"])) for e in recent]
                if len(recent) < len(page["executions"]):
                    break  # newest first: the rest started before the window
    found.sort(key=lambda e: e.started_at, reverse=True)
    return found[:MAX_EXECUTIONS]


def _console_link(execution_arn: str) -> str:
    region = execution_arn.split(":")[3]
    return (f"https://{region}.console.aws.amazon.com/states/home?region={region}"
            f"#/v2/executions/details/{execution_arn}")


def _http_5xx(uow: UnitOfWork, at: datetime) -> list[ServiceErrors]:
    services = analytics.metrics_between(uow, at - RATE_WINDOW, at).services
    return [ServiceErrors(service=name, requests=s.requests, server_errors=s.server_errors,
                          error_rate=s.error_rate) for name, s in services.items()]


def _airtable_429s(since: datetime, until: datetime) -> list[BaseThrottling]:
    """Airtable429s per base (the EMF metric the Airtable client writes) over the window."""
    cloudwatch = client("cloudwatch")
    namespace = _namespace()
    metrics = [m for page in cloudwatch.get_paginator("list_metrics").paginate(
        Namespace=namespace, MetricName=AIRTABLE_429S) for m in page["Metrics"]]
    per_base: dict[str, int] = {}
    for start in range(0, len(metrics), 500):  # GetMetricData's limit per call
        chunk = metrics[start:start + 500]
        queries = [{"Id": f"m{n}", "ReturnData": True, "MetricStat": {
            "Metric": m, "Period": int(WINDOW.total_seconds()), "Stat": "Sum"}}
            for n, m in enumerate(chunk)]
        results = cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=since,
                                             EndTime=until)["MetricDataResults"]
        for result in results:
            metric = chunk[int(result["Id"][1:])]
            base = next((d["Value"] for d in metric["Dimensions"] if d["Name"] == BASE), None)
            if base:
                per_base[base] = per_base.get(base, 0) + int(sum(result["Values"]))
    return [BaseThrottling(base_id=b, responses_429=n)
            for b, n in sorted(per_base.items(), key=lambda item: -item[1]) if n]


def _namespace() -> str:
    return os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE)

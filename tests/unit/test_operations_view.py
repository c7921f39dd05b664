"""The operations view's reads of CloudWatch and SQS (moto): alarms, 429s per base, depths."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from common.core import aws
from common.core.clock import now
from common.platform import operations


@pytest.fixture
def cloud(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "PyAirtable")
    aws.client.cache_clear()
    with mock_aws():
        yield boto3.client("cloudwatch", region_name="us-east-1")
    aws.client.cache_clear()


def _settings(monkeypatch, **values: str) -> None:
    monkeypatch.setattr(operations, "get_settings", lambda: SimpleNamespace(**values))


def _alarm(cloud, name: str) -> None:
    cloud.put_metric_alarm(AlarmName=name, Namespace="AWS/SQS",
                           MetricName="ApproximateNumberOfMessagesVisible", Statistic="Maximum",
                           Period=300, EvaluationPeriods=1, Threshold=0,
                           ComparisonOperator="GreaterThanThreshold")


def test_only_the_stacks_alarms_are_listed_firing_first_without_the_prefix(cloud, monkeypatch):
    _settings(monkeypatch, alarm_name_prefix="stack-")
    _alarm(cloud, "stack-b-ok")
    _alarm(cloud, "stack-a-quiet")
    _alarm(cloud, "stack-z-firing")
    _alarm(cloud, "other-stack-alarm")
    cloud.set_alarm_state(AlarmName="stack-z-firing", StateValue="ALARM", StateReason="depth 3")
    cloud.set_alarm_state(AlarmName="stack-b-ok", StateValue="OK", StateReason="empty")
    alarms = operations._alarms()
    assert [(a.name, a.state) for a in alarms] == [
        ("z-firing", "ALARM"), ("a-quiet", "OK"), ("b-ok", "OK")]
    assert alarms[0].reason == "depth 3"


def test_airtable_429s_are_summed_per_base_over_the_window(cloud):
    at = now()
    for base, service, count in (("appA", "airtable", 2), ("appA", "saga-tasks", 1),
                                 ("appB", "airtable", 1)):
        cloud.put_metric_data(Namespace="PyAirtable", MetricData=[{
            "MetricName": "Airtable429s", "Value": count, "Unit": "Count",
            "Timestamp": at - timedelta(minutes=5),
            "Dimensions": [{"Name": "base", "Value": base}, {"Name": "service",
                                                              "Value": service}]}])
    found = operations._airtable_429s(at - timedelta(hours=24), at)
    assert [(b.base_id, b.responses_429) for b in found] == [("appA", 3), ("appB", 1)]


def test_dead_letter_depths_are_read_per_named_queue(cloud, monkeypatch):
    sqs = boto3.client("sqs", region_name="us-east-1")
    full = sqs.create_queue(QueueName="webhooks-dlq")["QueueUrl"]
    empty = sqs.create_queue(QueueName="async-failures")["QueueUrl"]
    for n in range(2):
        sqs.send_message(QueueUrl=full, MessageBody=str(n))
    _settings(monkeypatch, dead_letter_queues=f"webhooks={full},async_invocations={empty}")
    depths = {q.name: q.depth for q in operations._dead_letter_queues()}
    assert depths == {"webhooks": 2, "async_invocations": 0}

"""A domain event the bus does not take is logged with its ids and counted, never raised."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import boto3
import pytest
from botocore.stub import Stubber

from common.core import events


@pytest.fixture
def bus(monkeypatch):
    """The events client with PutEvents answered by the test (Stubber)."""
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "PyAirtable")
    monkeypatch.setattr(events, "get_settings", lambda: SimpleNamespace(event_bus_name="bus"))
    client = boto3.client("events", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    monkeypatch.setattr(events, "client", lambda service: client)
    with Stubber(client) as stubber:
        yield stubber


def _lost_metric(capsys) -> float:
    """EventsLost as the EMF lines printed so far count it."""
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()
             if line.startswith("{")]
    return sum(sum(line.get(events.EVENTS_LOST, [])) for line in lines)


def _lost_log(caplog) -> logging.LogRecord:
    [record] = [r for r in caplog.records if r.getMessage().startswith("events lost")]
    return record


def test_events_the_bus_refuses_are_logged_by_type_and_id_and_counted(bus, capsys, caplog):
    bus.add_response("put_events", {"FailedEntryCount": 1, "Entries": [
        {"EventId": "e1"}, {"ErrorCode": "InternalFailure", "ErrorMessage": "x"}]})
    events.publish_all([("user.registered", {"user_id": "u1", "email": "a@b.c"}),
                        ("workspace.created", {"workspace_id": "w1", "name": "Secret"})])
    log = _lost_log(caplog)
    assert log.levelname == "ERROR"
    assert log.lost_events == [{"type": "workspace.created", "ids": {"workspace_id": "w1"},
                                "reason": "InternalFailure"}]
    assert _lost_metric(capsys) == 1


def test_an_unreachable_bus_loses_the_whole_batch_loudly_without_raising(bus, capsys, caplog):
    bus.add_client_error("put_events", service_error_code="ServiceUnavailable")
    events.publish_all([("file.uploaded", {"file_id": "f1"}), ("file.uploaded", {"file_id": "f2"})])
    log = _lost_log(caplog)
    assert [(e["ids"], e["reason"]) for e in log.lost_events] == [
        ({"file_id": "f1"}, "ServiceUnavailable"), ({"file_id": "f2"}, "ServiceUnavailable")]
    assert _lost_metric(capsys) == 2


def test_published_events_leave_no_loss_behind(bus, capsys, caplog):
    bus.add_response("put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": "e1"}]})
    events.publish_all([("user.registered", {"user_id": "u1"})])
    assert _lost_metric(capsys) == 0
    assert not [r for r in caplog.records if r.getMessage().startswith("events lost")]

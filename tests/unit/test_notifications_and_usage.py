"""Pure parts of notifications and usage: titles, subscriptions, signatures, EMF parsing,
latency buckets."""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json

import pytest

from common.notifications import templates
from common.notifications.webhooks import WebhookIn, signature, subscribes
from common.platform import analytics


def test_a_template_fills_in_the_events_fields():
    assert templates.title("saga.compensated", {
        "summary": "create 2 Contacts, update 1 Contact", "failed_step": 2}) == \
        "Transaction 'create 2 Contacts, update 1 Contact' failed on step 2 and was rolled back"


def test_a_missing_field_chooses_a_template_without_it_never_a_placeholder():
    assert templates.title("saga.compensated", {"summary": "delete 1 Contact"}) == \
        "Transaction 'delete 1 Contact' failed and was rolled back"
    assert templates.title("saga.compensated", {}) == "A transaction failed and was rolled back"


def test_an_import_says_what_happened_to_which_file_and_table():
    detail = {"filename": "people.csv", "table_name": "Contacts", "status": "succeeded",
              "created": 29, "updated": 0, "failed": 1}
    assert templates.title("file.import.finished", detail) == \
        "people.csv -> Contacts: 29 created, 1 rejected"
    failed = {"filename": "people.csv", "status": "failed", "error": "The file was deleted."}
    assert templates.title("file.import.finished", failed) == \
        "Import of people.csv: failed (The file was deleted.)"


def test_the_link_is_the_ui_path_of_what_the_event_is_about():
    assert templates.link("saga.compensated", {"saga_id": "s1"}) == "/sagas/s1"
    assert templates.link("file.import.finished", {"import_id": "i1"}) == "/files/imports/i1"
    assert templates.link("workflow.execution.failed", {"execution_id": "e1"}) == \
        "/workflows/executions/e1"
    assert templates.link("saga.compensated", {}) is None
    assert templates.link("user.registered", {"demo_base_id": "appX"}) == "/bases/appX"


def test_a_type_without_template_gets_a_title_from_its_name():
    assert templates.title("file.import.finished_early", {}) == "File import finished early"


def test_an_events_own_title_wins_and_is_capped():
    assert templates.title("saga.compensated", {"title": "x" * 500}) == "x" * 200


def test_template_fields_are_plain_values_only():
    # Attribute access in a value must not be evaluated: only our templates are formatted.
    assert templates.title("user.role_changed", {"role": "{0.__class__}"}) == \
        "Your role is now {0.__class__}"


@pytest.mark.parametrize(("patterns", "event_type", "wanted"), [
    (["*"], "saga.compensated", True),
    (["saga.*"], "saga.compensated", True),
    (["saga.*"], "sagas.compensated", False),
    (["saga.compensated"], "saga.failed", False),
    (["user.password_changed", "saga.compensated"], "saga.compensated", True),
])
def test_subscriptions(patterns, event_type, wanted):
    assert subscribes(patterns, event_type) is wanted


def test_event_patterns_are_validated():
    with pytest.raises(ValueError):
        WebhookIn(url="https://example.com/", events=["Saga Compensated"])
    assert WebhookIn(url="https://example.com/", events=["saga.*", "saga.*"]).events == ["saga.*"]


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"id":"e1"}'
    header = signature("whsec_x", 1700000000, body)
    expected = hmac.new(b"whsec_x", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_latency_buckets_are_within_ten_percent():
    for ms in (0.05, 0.5, 3.0, 12.3, 250.0, 9000.0):
        ceiling = analytics.bucket_ceiling(analytics.bucket_of(ms))
        assert ms <= ceiling + 0.05 and ceiling <= max(ms * 1.1, 0.1) + 0.05


def _emf(**fields):
    line = {"_aws": {"Timestamp": 1764172800000, "CloudWatchMetrics": [
        {"Namespace": "PyAirtable", "Dimensions": [["service"]],
         "Metrics": [{"Name": "ApiLatency", "Unit": "Milliseconds"}]}]},
            "service": "users", "ApiLatency": 12.5, "status_code": 200, **fields}
    return json.dumps(line)


def test_only_emf_request_lines_are_counted():
    assert analytics._request_line('{"level":"INFO","message":"hello"}') is None
    assert analytics._request_line("not json at all") is None
    parsed = analytics._request_line(_emf(user_id="u1", AirtableRequests=[1, 1, 1]))
    assert parsed == {"at": 1764172800000, "service": "users", "user_id": "u1",
                      "status": 200, "latency": 12.5, "airtable": 3}
    anonymous = analytics._request_line(_emf(status_code=404))
    assert anonymous["user_id"] is None and anonymous["airtable"] == 0


def test_awslogs_payloads_decode():
    payload = {"messageType": "DATA_MESSAGE", "logEvents": [{"id": "1", "message": _emf()}]}
    data = base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()
    assert analytics.decode_awslogs(data) == payload


def test_percentiles_come_from_the_histogram():
    buckets = {analytics.bucket_of(ms): [1, 0, 0] for ms in (1.0, 2.0, 100.0)}
    summary = analytics._summary(buckets)
    assert summary["requests"] == 3
    assert summary["latency_ms"]["p50"] == analytics.bucket_ceiling(analytics.bucket_of(2.0))
    assert summary["latency_ms"]["p99"] == analytics.bucket_ceiling(analytics.bucket_of(100.0))

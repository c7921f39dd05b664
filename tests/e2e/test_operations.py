"""The operations view and the dead letters behind it, over real HTTP on the local stack."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.e2e.authutil import admin_login, bearer, register
from tests.e2e.conftest import ADMIN_EMAIL
from tests.e2e.receiver import Receiver
from tests.helpers import wait_for


@pytest.fixture(scope="module")
def admin(api, stack):
    return bearer(admin_login(api, stack.mail_dir, ADMIN_EMAIL)["access_token"])


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


def _operations(api, admin):
    response = api.get("/api/platform/operations", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


def test_every_alarm_of_the_template_is_listed_with_its_state(api, stack, admin):
    view = _operations(api, admin)
    names = {a["name"] for a in view["alarms"]}
    assert {"WebhookDeadLetterQueue-not-empty-inspect-then-redrive",
            "AsyncFailureQueue-not-empty-inspect-then-redrive",
            "WorkflowStateMachine-executions-failed-open-the-execution",
            "AuthFunction-errors-read-its-logs", "api-auth-5xx-over-1pct-read-its-logs",
            "airtable-429-base-locked-out-check-the-limiter"} <= names
    # No RDS instance locally (DatabaseInstanceId is empty): its alarm is not created.
    assert not [n for n in names if n.startswith("database-connections")]
    assert {a["state"] for a in view["alarms"]} <= {"OK", "ALARM", "INSUFFICIENT_DATA"}
    assert {q["name"] for q in view["dead_letter_queues"]} == {"webhooks", "async_invocations"}


def test_a_member_gets_the_403_envelope(api):
    member = bearer(register(api)["access_token"])
    response = api.get("/api/platform/operations", headers=member)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_a_dead_lettered_webhook_delivery_shows_in_depth_and_deliveries(api, stack, admin,
                                                                        receiver):
    tokens = register(api)
    auth = bearer(tokens["access_token"])
    receiver.always_fail = True
    hook = api.post("/api/notifications/webhooks", headers=auth,
                    json={"url": receiver.url(), "events": ["saga.compensated"]}).json()
    before = {q["name"]: q["depth"] for q in _operations(api, admin)["dead_letter_queues"]}
    stack.client("events").put_events(Entries=[{
        "Source": "pyairtable", "DetailType": "saga.compensated",
        "EventBusName": stack.resource("EventBus"),
        "Detail": json.dumps({"saga_id": "s-" + uuid.uuid4().hex[:8],
                              "workspace_id": hook["workspace_id"],
                              "user_id": tokens["user"]["id"]})}])

    def dead_lettered():
        # The delivery is marked at its last send; SQS moves the message on its next receive.
        view = _operations(api, admin)
        mine = [d for d in view["failed_webhook_deliveries"] if d["webhook_id"] == hook["id"]]
        depth = {q["name"]: q["depth"] for q in view["dead_letter_queues"]}
        return mine if mine and depth["webhooks"] > before["webhooks"] else None

    (delivery,) = wait_for(dead_lettered, timeout=90, interval=1.0)
    assert delivery["event_type"] == "saga.compensated"
    assert delivery["last_error"] == "HTTP 500"
    assert delivery["retry"] == (f"/api/notifications/webhooks/{hook['id']}/deliveries/"
                                 f"{delivery['id']}/retry")


def test_an_eventbridge_event_failing_every_retry_lands_in_the_on_failure_queue(stack):
    # user.registered without a user: the saga task function raises on every attempt.
    marker = uuid.uuid4().hex
    stack.client("events").put_events(Entries=[{
        "Source": "pyairtable", "DetailType": "user.registered",
        "EventBusName": stack.resource("EventBus"), "Detail": json.dumps({"marker": marker})}])
    sqs = stack.client("sqs")
    saga_tasks = stack.function("SagaTasksFunction")

    def failed_record():
        messages = sqs.receive_message(QueueUrl=stack.resource("AsyncFailureQueue"),
                                       MaxNumberOfMessages=10, VisibilityTimeout=0)
        records = [json.loads(m["Body"]) for m in messages.get("Messages", [])]
        return [r for r in records if r["requestPayload"].get("detail", {}).get("marker") ==
                marker and r["requestContext"]["functionArn"].startswith(saga_tasks.arn)]

    (record,) = wait_for(failed_record, timeout=60, interval=0.5)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3  # the first try + 2 retries
    assert record["responsePayload"]["errorType"] == "KeyError"
    assert record["requestPayload"]["detail-type"] == "user.registered"

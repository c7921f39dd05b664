"""Signed webhooks over real HTTP: delivery, retries, the dead-letter queue, redelivery and
the address rule (metadata addresses never, not even through a name rebound to one)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path

import pytest

from tests.e2e.authutil import PASSWORD, bearer, register
from tests.e2e.receiver import Receiver
from tests.helpers import wait_for


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def hosts(stack):
    """Map a name to an address in the functions' hosts file (as DNS would answer)."""
    path = Path(stack.options.extra_env["OUTBOUND_HOSTS_FILE"])

    def set_entry(name: str, address: str) -> None:
        lines = [line for line in path.read_text().splitlines() if not line.endswith(f" {name}")]
        path.write_text("\n".join([*lines, f"{address} {name}"]) + "\n")

    return set_entry


def _user(api):
    tokens = register(api)
    return tokens, bearer(tokens["access_token"])


def _webhook(api, auth, url, events, **extra):
    response = api.post("/api/notifications/webhooks", headers=auth,
                        json={"url": url, "events": events, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def _deliveries(api, auth, webhook_id):
    response = api.get(f"/api/notifications/webhooks/{webhook_id}/deliveries", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _settled(api, auth, webhook_id, status, event_type=None):
    """The webhook's deliveries (of `event_type`, if given) once the newest one has `status`."""
    def check():
        items = [d for d in _deliveries(api, auth, webhook_id)
                 if event_type in (None, d["type"])]
        return items if items and items[0]["status"] == status else None

    return wait_for(check, timeout=60, interval=0.5)


def _publish(stack, event_type, detail):
    stack.client("events").put_events(Entries=[{
        "Source": "pyairtable", "DetailType": event_type, "Detail": json.dumps(detail),
        "EventBusName": stack.resource("EventBus")}])


def _verify(secret: str, header: str, body: bytes) -> int:
    """The receiver's side of the signature: HMAC-SHA256(secret, "<t>.<raw body>")."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body,
                        hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, parts["v1"])
    return int(parts["t"])


def test_password_change_is_delivered_signed_and_lands_in_the_inbox(api, receiver):
    tokens, auth = _user(api)
    hook = _webhook(api, auth, receiver.url(), ["user.password_changed"])
    assert hook["secret"].startswith("whsec_")
    changed = api.post("/api/auth/password", headers=auth, json={
        "current_password": PASSWORD, "new_password": "Another-Long-Passphrase-42"})
    assert changed.status_code == 204, changed.text

    (request,) = wait_for(receiver.accepted, timeout=30)
    stamp = _verify(hook["secret"], request.headers["x-pyairtable-signature"], request.body)
    assert abs(time.time() - stamp) < 300  # what a receiver checks against replays
    body = json.loads(request.body)
    assert set(body) == {"id", "type", "created_at", "data"}
    assert body["type"] == "user.password_changed"
    assert body["data"]["user_id"] == tokens["user"]["id"]
    assert request.headers["content-type"] == "application/json"
    tampered = request.body.replace(b"password", b"passw0rd")
    with pytest.raises(AssertionError):
        _verify(hook["secret"], request.headers["x-pyairtable-signature"], tampered)

    inbox = wait_for(lambda: [n for n in api.get("/api/notifications", headers=auth).json()[
        "items"] if n["type"] == "user.password_changed"])
    assert len(inbox) == 1
    assert inbox[0]["title"] == "Your password was changed" and inbox[0]["read"] is False
    assert inbox[0]["data"]["user_id"] == tokens["user"]["id"]
    (delivery,) = _settled(api, auth, hook["id"], "delivered")
    assert delivery["attempts"] == 1 and delivery["last_status_code"] == 200
    assert delivery["event_id"] == body["id"]


def test_a_receiver_failing_three_times_gets_the_event_exactly_once(api, stack, receiver):
    tokens, auth = _user(api)
    hook = _webhook(api, auth, receiver.url(), ["saga.compensated"])
    receiver.failures = 3
    _publish(stack, "saga.compensated", {"saga_id": "s-" + uuid.uuid4().hex[:8],
                                         "workspace_id": hook["workspace_id"],
                                         "user_id": tokens["user"]["id"]})
    (delivery,) = _settled(api, auth, hook["id"], "delivered", "saga.compensated")
    assert delivery["attempts"] == 4
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 500, 500, 200]
    assert len(receiver.accepted()) == 1
    assert [r.answered for r in receiver.requests] == [500, 500, 500, 200]
    ids = {json.loads(r.body)["id"] for r in receiver.requests}
    assert ids == {delivery["event_id"]}  # one event id: a receiver can deduplicate retries


def test_an_always_failing_receiver_ends_in_the_dlq_and_the_retry_route_delivers(
        api, stack, receiver):
    tokens, auth = _user(api)
    hook = _webhook(api, auth, receiver.url(), ["saga.compensated"])
    receiver.always_fail = True
    _publish(stack, "saga.compensated", {"saga_id": "s-" + uuid.uuid4().hex[:8],
                                         "workspace_id": hook["workspace_id"],
                                         "user_id": tokens["user"]["id"]})
    (delivery,) = _settled(api, auth, hook["id"], "dead_lettered", "saga.compensated")
    attempts = int(stack.function("WebhookDeliveryFunction").environment["WEBHOOK_MAX_RECEIVES"])
    assert delivery["attempts"] == attempts == len(receiver.requests)
    assert [a["number"] for a in delivery["attempt_log"]] == list(range(1, attempts + 1))
    assert all(a["status_code"] == 500 and a["error"] == "HTTP 500"
               for a in delivery["attempt_log"])
    assert delivery["last_error"] == "HTTP 500"

    sqs = stack.client("sqs")

    def dead_letters():
        messages = sqs.receive_message(QueueUrl=stack.resource("WebhookDeadLetterQueue"),
                                       MaxNumberOfMessages=10).get("Messages", [])
        return [m for m in messages if json.loads(m["Body"])["delivery_id"] == delivery["id"]]

    assert wait_for(dead_letters, timeout=30, interval=0.5)

    receiver.always_fail = False
    retried = api.post(f"/api/notifications/webhooks/{hook['id']}/deliveries/"
                       f"{delivery['id']}/retry", headers=auth)
    assert retried.status_code == 202, retried.text
    (done,) = _settled(api, auth, hook["id"], "delivered", "saga.compensated")
    assert done["attempts"] == attempts + 1
    assert len(receiver.accepted()) == 1
    again = api.post(f"/api/notifications/webhooks/{hook['id']}/deliveries/"
                     f"{delivery['id']}/retry", headers=auth)
    assert again.status_code == 409  # a delivered delivery is never sent twice


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/",
                                 "http://[fd00:ec2::254]/", "http://metadata.test/"])
def test_metadata_addresses_are_refused_at_creation(api, hosts, url):
    hosts("metadata.test", "169.254.169.254")
    _, auth = _user(api)
    response = api.post("/api/notifications/webhooks", headers=auth,
                        json={"url": url, "events": ["*"]})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"][0]["field"] == "url"
    assert "link-local" in error["details"][0]["problem"]


def test_a_name_rebound_to_the_metadata_address_after_creation_is_never_sent(
        api, stack, hosts, receiver):
    name = f"rebind-{uuid.uuid4().hex[:6]}.test"
    hosts(name, "127.0.0.1")
    tokens, auth = _user(api)
    hook = _webhook(api, auth, receiver.url(host=name), ["saga.compensated"])
    hosts(name, "169.254.169.254")
    _publish(stack, "saga.compensated", {"saga_id": "s1", "workspace_id": hook["workspace_id"],
                                         "user_id": tokens["user"]["id"]})
    (delivery,) = _settled(api, auth, hook["id"], "refused", "saga.compensated")
    assert delivery["attempts"] == 1
    assert "169.254.169.254 is a link-local" in delivery["last_error"]
    assert delivery["attempt_log"][0]["status_code"] is None
    assert receiver.requests == []

    hosts(name, "127.0.0.1")  # DNS answers sanely again: the retry route may send it
    retried = api.post(f"/api/notifications/webhooks/{hook['id']}/deliveries/"
                       f"{delivery['id']}/retry", headers=auth)
    assert retried.status_code == 202
    _settled(api, auth, hook["id"], "delivered", "saga.compensated")
    assert len(receiver.accepted()) == 1
    assert receiver.accepted()[0].headers["host"] == f"{name}:{receiver.port}"


def test_user_events_reach_only_the_users_own_webhooks(api, receiver):
    _, first_auth = _user(api)
    _, second_auth = _user(api)
    mine = _webhook(api, first_auth, receiver.url(path="/mine"), ["user.*"])
    theirs = _webhook(api, second_auth, receiver.url(path="/theirs"), ["*"])
    api.post("/api/auth/password", headers=first_auth, json={
        "current_password": PASSWORD, "new_password": "Another-Long-Passphrase-42"})
    wait_for(receiver.accepted, timeout=30)
    _settled(api, first_auth, mine["id"], "delivered")
    first_id = api.get("/api/auth/me", headers=first_auth).json()["id"]
    # The second user's own events (its onboarding finishing, say) may reach its "*" webhook at
    # any time; none about the first user may.
    assert any(r.path == "/mine" and first_id.encode() in r.body for r in receiver.accepted())
    assert not [r.body for r in receiver.accepted()
                if r.path == "/theirs" and first_id.encode() in r.body]
    assert not [d for d in _deliveries(api, second_auth, theirs["id"])
                if d["type"].startswith("user.password")]


def test_webhooks_are_listed_per_workspace_and_hidden_from_others(api, receiver):
    _, auth = _user(api)
    _, stranger = _user(api)
    hook = _webhook(api, auth, receiver.url(), ["saga.compensated"])
    listed = api.get("/api/notifications/webhooks", headers=auth).json()
    assert [w["id"] for w in listed["items"]] == [hook["id"]]
    assert "secret" not in listed["items"][0]
    by_workspace = api.get("/api/notifications/webhooks",
                           params={"workspace_id": hook["workspace_id"]}, headers=auth).json()
    assert [w["id"] for w in by_workspace["items"]] == [hook["id"]]
    assert api.get("/api/notifications/webhooks", params={"workspace_id": hook["workspace_id"]},
                   headers=stranger).status_code == 404
    assert api.get(f"/api/notifications/webhooks/{hook['id']}/deliveries",
                   headers=stranger).status_code == 404
    assert api.delete(f"/api/notifications/webhooks/{hook['id']}",
                      headers=stranger).status_code == 404
    assert api.delete(f"/api/notifications/webhooks/{hook['id']}", headers=auth).status_code == 204
    assert api.get("/api/notifications/webhooks", headers=auth).json()["items"] == []


def test_invalid_webhook_bodies_are_422(api):
    _, auth = _user(api)
    for body in ({"url": "http://127.0.0.1:9/x", "events": []},
                 {"url": "http://127.0.0.1:9/x", "events": ["Not An Event"]},
                 {"url": "ftp://example.com/", "events": ["*"]}):
        response = api.post("/api/notifications/webhooks", headers=auth, json=body)
        assert response.status_code == 422, (body, response.text)

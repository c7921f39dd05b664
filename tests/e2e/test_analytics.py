"""Platform analytics over real HTTP: usage per day, admin metrics, analytics events, audit.

Usage and metrics come from the functions' EMF log lines (shipped to CloudWatch Logs and
summed by the usage aggregator), so the test waits for them to arrive; it polls the database
rather than the usage route, whose own calls would count too.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from common.core.models import UsageDay
from tests.e2e.authutil import admin_login, bearer, register
from tests.e2e.conftest import ADMIN_EMAIL
from tests.helpers import wait_for

PEOPLE = [{"name": "Name", "type": "singleLineText"}, {"name": "Email", "type": "email"}]


@pytest.fixture(scope="module")
def admin(api, stack):
    return bearer(admin_login(api, stack.mail_dir, ADMIN_EMAIL)["access_token"])


def _counted(database_url, user_id, calls):
    engine = create_engine(database_url)
    try:
        def done():
            with Session(engine) as session:
                rows = session.scalars(select(UsageDay).where(UsageDay.user_id == user_id)).all()
                return sum(r.api_calls for r in rows) >= calls
        wait_for(done, timeout=30, interval=0.3)
    finally:
        engine.dispose()


def test_usage_counts_match_the_calls_made(api, stack, database_url):
    tokens = register(api)
    auth = bearer(tokens["access_token"])
    # A workspace with a connection of its own token: every Airtable request it causes is
    # attributable in the emulator's log, whatever else the stack is doing meanwhile.
    workspace = api.post("/api/workspaces", headers=auth, json={"name": "Usage"})
    assert workspace.status_code == 201, workspace.text
    airtable_user = f"usr{uuid.uuid4().hex[:14]}"
    token = f"pat{uuid.uuid4().hex}.usage"
    stack.airtable.tokens[token] = airtable_user
    base = stack.airtable.create_base(f"Usage {uuid.uuid4().hex[:6]}",
                                      tables=[{"name": "People", "fields": PEOPLE}])
    connection = api.post("/api/airtable/connections", headers=auth, json={
        "name": "usage", "token": token, "workspace_id": workspace.json()["id"]})
    assert connection.status_code == 201, connection.text
    for _ in range(3):
        assert api.get("/api/users/me", headers=auth).status_code == 200
    assert api.post("/api/notifications/nothing-here/read", headers=auth).status_code == 404
    records = f"/api/airtable/bases/{base}/tables/People/records"
    for size in (5, 6):
        response = api.get(records, params={"page_size": size,
                                            "connection_id": connection.json()["id"]},
                           headers=auth)
        assert response.status_code == 200, response.text
        assert response.headers["X-Cache"] == "MISS"
    airtable_calls = stack.airtable.requests_of(airtable_user)
    assert len([r for r in airtable_calls if r[3] == base]) == 2

    calls = 8  # workspace, connection, 3 profiles, 1 missing notification, 2 record pages
    _counted(database_url, tokens["user"]["id"], calls)
    usage = api.get("/api/platform/usage", headers=auth)
    assert usage.status_code == 200, usage.text
    body = usage.json()
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    expected = {"api_calls": calls, "airtable_requests": len(airtable_calls), "errors": 1}
    assert body["items"] == [{"date": today, **expected}]
    assert body["totals"] == expected


def test_metrics_show_the_requests_per_service_for_admins_only(api, stack, admin,
                                                               database_url):
    tokens = register(api)
    auth = bearer(tokens["access_token"])
    assert api.get("/api/platform/metrics", headers=auth).status_code == 403
    before = api.get("/api/platform/metrics", headers=admin)
    assert before.status_code == 200, before.text
    previous = before.json()["services"].get("notifications", {"requests": 0,
                                                                "client_errors": 0})
    for _ in range(4):
        assert api.get("/api/notifications", headers=auth).status_code == 200
    assert api.post("/api/notifications/missing/read", headers=auth).status_code == 404
    _counted(database_url, tokens["user"]["id"], 6)  # with the refused metrics call

    body = api.get("/api/platform/metrics", headers=admin).json()
    notifications = body["services"]["notifications"]
    assert notifications["requests"] >= previous["requests"] + 5
    assert notifications["client_errors"] >= previous["client_errors"] + 1
    latency = notifications["latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"]
    assert 0 <= notifications["error_rate"] <= 1
    only = api.get("/api/platform/metrics", params={"service": "notifications"},
                   headers=admin).json()
    assert set(only["services"]) == {"notifications"}
    later = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    empty = api.get("/api/platform/metrics", params={"since": later}, headers=admin)
    assert empty.status_code == 422  # since after until (now)


def test_analytics_events_are_recorded(api):
    auth = bearer(register(api)["access_token"])
    created = api.post("/api/platform/events", headers=auth,
                       json={"event_type": "ui.page_view", "data": {"page": "/bases"}})
    assert created.status_code == 201, created.text
    assert created.json()["event_type"] == "ui.page_view"
    assert created.json()["data"] == {"page": "/bases"}
    too_big = api.post("/api/platform/events", headers=auth,
                       json={"event_type": "ui.blob", "data": {"x": "y" * 20_000}})
    assert too_big.status_code == 422
    bad_type = api.post("/api/platform/events", headers=auth,
                        json={"event_type": "has spaces", "data": {}})
    assert bad_type.status_code == 422


def test_audit_log_filters_by_actor_action_and_time_range(api, admin):
    tokens = register(api)
    user_id = tokens["user"]["id"]
    auth = bearer(tokens["access_token"])
    assert api.post("/api/auth/api-keys", headers=auth, json={"name": "ci"}).status_code == 201
    mine = api.get("/api/platform/audit", params={"actor_id": user_id}, headers=admin).json()
    actions = [e["action"] for e in mine["items"]]
    assert "api_key.created" in actions and "user.registered" in actions
    assert all(e["actor_id"] == user_id for e in mine["items"])
    keys = api.get("/api/platform/audit", params={"actor_id": user_id,
                                                  "action": "api_key.created"},
                   headers=admin).json()["items"]
    assert [e["action"] for e in keys] == ["api_key.created"]
    stamp = datetime.fromisoformat(keys[0]["occurred_at"])
    window = {"actor_id": user_id, "since": (stamp - timedelta(seconds=1)).isoformat(),
              "until": (stamp + timedelta(seconds=1)).isoformat()}
    assert "api_key.created" in [e["action"] for e in api.get(
        "/api/platform/audit", params=window, headers=admin).json()["items"]]
    future = {"actor_id": user_id, "since": (stamp + timedelta(hours=1)).isoformat()}
    assert api.get("/api/platform/audit", params=future, headers=admin).json()["items"] == []
    assert api.get("/api/platform/audit", headers=auth).status_code == 403
    assert api.get("/api/platform/metrics", headers=auth).status_code == 403

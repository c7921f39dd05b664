"""The public aggregate health answers from a recent shared report: many callers at once make
the services' health routes run once, not once each; the per-service checks are for admins."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from local.services import http_services
from tests.e2e.authutil import admin_login, bearer, register
from tests.e2e.conftest import ADMIN_EMAIL

pytestmark = pytest.mark.e2e

SERVICES = set(http_services())


@pytest.fixture
def health_invocations(stack):
    """Counts the service health invocations the platform function makes (the auth service's
    stands for all seven), from a report forgotten first."""
    stack.client("dynamodb").delete_item(TableName=stack.resource("CacheTable"),
                                         Key={"pk": {"S": "health#aggregate"}})
    pool = stack.pools[stack.function("AuthFunction").name]
    original, calls, lock = pool.invoke, [], threading.Lock()

    def counting(event):
        if isinstance(event, dict) and event.get("rawPath") == "/api/auth/health":
            with lock:
                calls.append(event)
        return original(event)

    pool.invoke = counting
    yield calls
    pool.invoke = original


def test_many_public_callers_at_once_cost_at_most_one_round_of_service_checks(
        api, health_invocations):
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda _: api.get("/api/health"), range(24)))
    assert {a.status_code for a in answers} == {200}
    assert all(a.json()["status"] == "healthy" for a in answers)
    # One refresh, or none where an instance still answers the report it read a moment ago.
    assert len(health_invocations) <= 1


def test_the_public_answer_names_statuses_only_and_an_admin_sees_every_check(api, stack,
                                                                           database_url):
    public = api.get("/api/health").json()
    assert set(public) == {"status", "services", "dependencies"}
    assert set(public["services"]) == SERVICES
    assert all(set(s) == {"status", "latency_ms"} for s in public["services"].values())
    admin = bearer(admin_login(api, stack.mail_dir, ADMIN_EMAIL)["access_token"])
    detail = api.get("/api/platform/health/services", headers=admin)
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["services"]["auth"]["checks"]["database"]["status"] == "ok"
    connections = body["database_connections"]
    if database_url.startswith("postgresql"):
        assert 1 <= connections["held"] < connections["limit"]
    else:
        assert connections is None  # SQLite has no connection limit
    assert {s: v["status"] for s, v in body["services"].items()} == \
        {s: v["status"] for s, v in public["services"].items()}


def test_the_per_service_detail_is_refused_to_members_and_to_the_public(api):
    member = bearer(register(api)["access_token"])
    assert api.get("/api/platform/health/services", headers=member).status_code == 403
    assert api.get("/api/platform/health/services").status_code == 401

"""The database goes down under traffic: clear 503s with Retry-After, then full recovery."""

from __future__ import annotations

import collections
import threading
import time

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.e2e.authutil import PASSWORD, bearer, register
from tests.helpers import wait_for


def test_a_database_outage_answers_503_then_recovers_with_nothing_half_applied(api, stack,
                                                                        database_link,
                                                                        database_url):
    if database_link is None:
        pytest.skip("the outage is staged on the PostgreSQL link (CI's database)")
    account = register(api)
    headers = bearer(account["access_token"])
    answers: list[tuple[str, object, str | None]] = []
    stop = threading.Event()

    def traffic(worker: int) -> None:
        for n in range(10_000):
            if stop.is_set():
                return
            name = f"outage-{worker}-{n}"
            for method, url, body in (("POST", "/api/workspaces", {"name": name}),
                                      ("GET", "/api/auth/me", None)):
                try:
                    response = api.request(method, url, json=body, headers=headers, timeout=30)
                    status: object = response.status_code
                    retry_after = response.headers.get("Retry-After")
                except requests.RequestException as e:
                    status, retry_after = type(e).__name__, None
                answers.append((name if method == "POST" else "", status, retry_after))

    workers = [threading.Thread(target=traffic, args=(i,)) for i in range(4)]
    for worker in workers:
        worker.start()
    time.sleep(2)
    database_link.down()
    time.sleep(1)
    login = api.post("/api/auth/login", json={"email": account["user"]["email"],
                                             "password": PASSWORD}, timeout=30)
    health = api.get("/api/users/health", timeout=30)
    time.sleep(4)
    back_up = time.time()
    database_link.up()

    def recovered() -> bool:
        return all(api.get("/api/auth/me", headers=headers, timeout=30).status_code == 200
                   for _ in range(8))

    wait_for(recovered, timeout=60, interval=0.5)
    time.sleep(1)
    stop.set()
    for worker in workers:
        worker.join(timeout=60)

    # A public route and a health check say what is wrong, and nothing about where.
    assert login.status_code == 503 and int(login.headers["Retry-After"]) > 0
    assert login.json()["error"]["code"] == "service_unavailable"
    assert health.status_code == 503
    assert health.json()["checks"]["database"]["status"] == "error"
    for body in (login.text, health.text):
        assert str(database_link.port) not in body and "postgres" not in body.lower()

    statuses = collections.Counter(status for _, status, _ in answers)
    assert set(statuses) <= {200, 201, 503}, statuses
    assert statuses[503] > 0, "the outage was never seen"
    assert all(retry for _, status, retry in answers if status == 503)

    # Nothing half-applied: every workspace reported created exists with its owner and audit
    # entry, and every workspace that exists (even one whose answer was lost) is whole.
    created = {name for name, status, _ in answers if name and status == 201}
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT w.name, "
            "(SELECT count(*) FROM workspace_members m WHERE m.workspace_id = w.id "
            " AND m.user_id = :u AND m.role = 'owner') AS owners, "
            "(SELECT count(*) FROM audit_log a WHERE a.target_id = w.id "
            " AND a.action = 'workspace.created') AS audits "
            "FROM workspaces w JOIN workspace_members m2 ON m2.workspace_id = w.id "
            "WHERE m2.user_id = :u AND w.personal_of IS NULL"),
            {"u": account["user"]["id"]}).all()
    engine.dispose()
    existing = {row.name for row in rows}
    assert created <= existing
    assert all(row.owners == 1 and row.audits == 1 for row in rows)
    # No transaction cut by the outage stays open on the server, holding its locks.
    assert _transactions_open_since_before(database_url, back_up) == []


def _transactions_open_since_before(database_url: str, moment: float) -> list[str]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        stale = conn.execute(text(
            "SELECT left(query, 80) FROM pg_stat_activity WHERE datname = current_database() "
            "AND xact_start < to_timestamp(:t) AND pid <> pg_backend_pid()"),
            {"t": moment}).scalars().all()
    engine.dispose()
    return list(stale)

"""API Gateway's own limits, as the template sets them: route throttling and the 10 MB body."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.conftest import _BaseUrlSession
from tests.helpers import wait_for

pytestmark = pytest.mark.e2e

ROUTE = "/api/sagas"  # `ANY /api/sagas`, a route no other test leans on


def _answers(base_url: str, count: int) -> list[tuple[int, str]]:
    session = _BaseUrlSession(base_url)
    return [(r.status_code, r.text) for r in (session.get(ROUTE) for _ in range(count))]


def test_a_route_past_its_burst_answers_429_with_api_gateways_body(api, stack):
    # Requests without credentials cost no function, so they outrun the stage's rate (the
    # template's default: bursts of 100, 50/s); throttling comes before authorization.
    with ThreadPoolExecutor(4) as pool:
        answers = [a for batch in pool.map(lambda _: _answers(stack.url, 150), range(4))
                   for a in batch]
    statuses = [status for status, _ in answers]
    assert set(statuses) == {401, 429}
    assert statuses.count(401) >= 100  # the burst
    assert statuses.count(429) > 0
    assert all(json.loads(body) == {"message": "Too Many Requests"}
               for status, body in answers if status == 429)
    # The bucket refills at the stage's rate.
    wait_for(lambda: api.get(ROUTE).status_code == 401, timeout=10)


def test_a_body_over_10_mb_is_413_from_the_gateway(api):
    response = api.post("/api/auth/login", data=b"{" + b" " * (10 * 1024 * 1024) + b"}",
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"message": "Request Entity Too Large"}
    assert api.get("/api/auth/health").status_code == 200  # the connection stays usable

"""API Gateway's and Lambda's limits: route throttling as the template sets it, the 10 MB body, and
Lambda's 6 MB synchronous request and response behind it."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.authutil import bearer, register
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


def test_a_7_mb_json_body_is_413_from_the_gateway(api):
    # Under API Gateway's 10 MB, but its event is over Lambda's 6 MB synchronous limit.
    body = json.dumps({"email": "a@example.com", "password": "x" * (7 * 1024 * 1024)})
    response = api.post("/api/auth/login", data=body,
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"message": "Request Entity Too Large"}


def test_a_function_answering_over_6_mb_is_502_from_the_gateway(api, stack):
    member = bearer(register(api)["access_token"])
    base_id = stack.airtable.create_base("Long notes", tables=[
        {"name": "Notes", "fields": [{"name": "Text", "type": "multilineText"}]}])
    url = f"/api/airtable/bases/{base_id}/tables/Notes/records"
    note = "n" * 70_000  # within Airtable's 100,000 characters of a long text
    for _ in range(4):  # 100 notes, 25 per request (each request well under 6 MB)
        created = api.post(url, json={"records": [{"fields": {"Text": note}}] * 25},
                           headers=member, timeout=120)
        assert created.status_code == 201, created.text
    assert api.get(url, params={"page_size": 50}, headers=member).status_code == 200
    # A page of 100 such notes is 7 MB: Lambda refuses the response, API Gateway answers 502.
    response = api.get(url, params={"page_size": 100}, headers=member, timeout=120)
    assert response.status_code == 502
    assert response.json() == {"message": "Internal Server Error"}

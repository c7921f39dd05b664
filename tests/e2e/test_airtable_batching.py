"""Airtable economy over HTTP: a bulk create is batched 10 per request under the base's limit,
and a repeated read is answered from the cache. (Their timings are `make bench` figures.)"""

from __future__ import annotations

import uuid

from tests.e2e.authutil import bearer, register


def test_a_500_record_create_sends_50_requests_and_none_is_refused(api, stack):
    member = bearer(register(api)["access_token"])
    base_id = stack.airtable.create_base(f"Bulk {uuid.uuid4().hex[:6]}", tables=[
        {"name": "Rows", "fields": [{"name": "Name", "type": "singleLineText"}]}])
    rows = [{"fields": {"Name": f"row {i}"}} for i in range(500)]
    response = api.post(f"/api/airtable/bases/{base_id}/tables/Rows/records",
                        json={"records": rows}, headers=member, timeout=120)
    assert response.status_code == 201, response.text
    assert len(response.json()["records"]) == 500
    log = stack.airtable.requests_for(base_id)
    assert [status for *_, status in log] == [200] * 50


def test_a_repeated_read_is_a_cache_hit_and_costs_airtable_nothing(api, stack):
    member = bearer(register(api)["access_token"])
    # A base of its own: nothing else (say, a new user's onboarding) writes to it meanwhile.
    base_id = stack.airtable.create_base(f"Reads {uuid.uuid4().hex[:6]}", tables=[
        {"name": "Rows", "fields": [{"name": "Name", "type": "singleLineText"}]}])
    url = f"/api/airtable/bases/{base_id}/tables/Rows/records"
    created = api.post(url, json={"records": [{"fields": {"Name": f"row {i}"}}
                                              for i in range(12)]}, headers=member)
    assert created.status_code == 201, created.text
    for size in range(5, 10):
        miss = api.get(url, params={"page_size": size}, headers=member)
        sent = len(stack.airtable.requests_for(base_id))
        hit = api.get(url, params={"page_size": size}, headers=member)
        assert (miss.headers["X-Cache"], hit.headers["X-Cache"]) == ("MISS", "HIT")
        assert hit.json() == miss.json()
        assert len(stack.airtable.requests_for(base_id)) == sent

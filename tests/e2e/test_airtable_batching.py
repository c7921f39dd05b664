"""Measured: bulk create throughput against Airtable's limit, and cache hit vs miss latency."""

from __future__ import annotations

import statistics
import time
import uuid

from tests.e2e.authutil import bearer, register

PHYSICAL_LIMIT = 50.0  # 5 requests/s x 10 records per request


def test_bulk_create_runs_close_to_airtables_physical_limit(api, stack):
    member = bearer(register(api)["access_token"])
    base_id = stack.airtable.create_base(f"Bulk {uuid.uuid4().hex[:6]}", tables=[
        {"name": "Rows", "fields": [{"name": "Name", "type": "singleLineText"}]}])
    rows = [{"fields": {"Name": f"row {i}"}} for i in range(500)]
    started = time.perf_counter()
    response = api.post(f"/api/airtable/bases/{base_id}/tables/Rows/records",
                        json={"records": rows}, headers=member, timeout=120)
    elapsed = time.perf_counter() - started
    assert response.status_code == 201, response.text
    assert len(response.json()["records"]) == 500
    log = stack.airtable.requests_for(base_id)
    assert [status for *_, status in log] == [200] * 50
    rate = 500 / elapsed
    print(f"\n500-record create: {elapsed:.1f}s = {rate:.1f} records/s "
          f"({rate / PHYSICAL_LIMIT:.0%} of the {PHYSICAL_LIMIT:.0f} records/s limit)")
    assert rate >= 0.85 * PHYSICAL_LIMIT


def test_cache_hits_are_faster_than_misses(api, stack):
    member = bearer(register(api)["access_token"])
    url = f"/api/airtable/bases/{stack.demo_base_id}/tables/Contacts/records"
    api.get(url, params={"page_size": 5}, headers=member)
    hits, misses = [], []
    for size in range(6, 16):
        started = time.perf_counter()
        miss = api.get(url, params={"page_size": size}, headers=member)
        misses.append(time.perf_counter() - started)
        started = time.perf_counter()
        hit = api.get(url, params={"page_size": size}, headers=member)
        hits.append(time.perf_counter() - started)
        assert (miss.headers["X-Cache"], hit.headers["X-Cache"]) == ("MISS", "HIT")
    hit_ms, miss_ms = statistics.median(hits) * 1000, statistics.median(misses) * 1000
    print(f"\ncache: hit median {hit_ms:.1f} ms, miss median {miss_ms:.1f} ms "
          f"({miss_ms / hit_ms:.1f}x)")
    assert hit_ms < miss_ms

"""Load with correctness: 32 concurrent clients of mixed reads and writes against the local
stack. Every response is a success, every read of a client's own record shows what it was last
told was written, and at the end the emulator holds exactly what the clients were told.

LOAD_SECONDS sets the length (10 s in `make test`; `make load` runs 60 s).
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from tests.e2e.authutil import bearer, register

CLIENTS = int(os.environ.get("LOAD_CLIENTS", "32"))
SECONDS = float(os.environ.get("LOAD_SECONDS", "10"))
CLIENTS_PER_BASE = 4  # Airtable's 5 requests/s per base are shared by this many clients
FIELDS = [{"name": "Name", "type": "singleLineText"},
          {"name": "Count", "type": "number", "options": {"precision": 0}}]

pytestmark = pytest.mark.e2e


@dataclass
class Client:
    """One client's view: what it was told it wrote, and what went wrong."""

    number: int
    base_id: str
    told: dict[str, dict[str, Any]] = field(default_factory=dict)
    operations: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)


def _records(base_id: str) -> str:
    return f"/api/airtable/bases/{base_id}/tables/Items/records"


def _run(client: Client, url: str, headers: dict[str, str], until: float) -> None:
    session = requests.Session()
    chance = random.Random(client.number)
    path = url + _records(client.base_id)
    serial = 0
    while time.monotonic() < until:
        pick = chance.random()
        try:
            if pick < 0.35 or not client.told:
                serial += 1
                rows = [{"fields": {"Name": f"c{client.number}-{serial}-{n}", "Count": n}}
                        for n in range(chance.randint(1, 3))]
                answer = session.post(path, headers=headers, json={"records": rows}, timeout=60)
                kind = "create"
                if answer.status_code == 201:
                    client.told.update({r["id"]: r["fields"] for r in answer.json()["records"]})
            elif pick < 0.55:
                record_id = chance.choice(sorted(client.told))
                count = client.told[record_id].get("Count", 0) + 1
                answer = session.patch(f"{path}/{record_id}", headers=headers,
                                       json={"fields": {"Count": count}}, timeout=60)
                kind = "update"
                if answer.status_code == 200:
                    client.told[record_id] = answer.json()["fields"]
            elif pick < 0.8:
                answer = session.get(path, headers=headers, params={"page_size": 20}, timeout=60)
                kind = "list"
            else:
                record_id = chance.choice(sorted(client.told))
                answer = session.get(f"{path}/{record_id}", headers=headers, timeout=60)
                kind = "read"
                if answer.status_code == 200 and answer.json()["fields"] != client.told[record_id]:
                    client.stale.append(record_id)
        except requests.RequestException as e:
            client.errors.append(f"{type(e).__name__}: {e}")
            continue
        client.operations[kind] += 1
        if answer.status_code >= 300:
            client.errors.append(f"{kind} {answer.status_code} {answer.text[:200]}")


@pytest.mark.timeout(300 + int(SECONDS))
def test_concurrent_clients_get_no_errors_and_airtable_holds_what_they_were_told(api, stack):
    bases = [stack.airtable.create_base(f"Load {uuid.uuid4().hex[:6]}",
                                        [{"name": "Items", "fields": FIELDS}])
             for _ in range(-(-CLIENTS // CLIENTS_PER_BASE))]
    headers = bearer(register(api)["access_token"])  # after the bases: its connection sees them
    clients = [Client(n, bases[n // CLIENTS_PER_BASE]) for n in range(CLIENTS)]
    until = time.monotonic() + SECONDS
    threads = [threading.Thread(target=_run, args=(c, stack.url, headers, until))
               for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    operations = sum((c.operations for c in clients), Counter())
    errors = [e for c in clients for e in c.errors]
    print(f"\nload: {CLIENTS} clients for {SECONDS:.0f} s: {dict(operations)}, "
          f"{sum(operations.values())} operations, {len(errors)} errors, "
          f"{sum(len(c.stale) for c in clients)} stale reads")
    assert errors == []
    assert [r for c in clients for r in c.stale] == []
    for base_id in bases:
        told = {rid: fields for c in clients if c.base_id == base_id
                for rid, fields in c.told.items()}
        with stack.airtable.store.lock:
            table = stack.airtable.store.table(base_id, "Items")
            stored = {r.id: {f.name: r.cells[f.id] for f in table.fields if f.id in r.cells}
                      for r in table.records.values()}
        assert stored == told

"""One rate limiter for every Lambda instance: request slots per base, reserved in the database.

Each request reserves the base's next free slot with one atomic upsert; slots are spaced
1/rate seconds apart (plus a small margin for the time between taking a slot and Airtable
receiving the request), so no rolling second ever holds more than `rate` requests, whichever
process sends them. A 429 from Airtable pushes the base's next slot 30 seconds out.
"""

from __future__ import annotations

import time

from sqlalchemy import text

from common.db import engine
from common.errors import RateLimited

LOCKOUT_SECONDS = 30.0
# Fraction of each slot kept free to absorb scheduling jitter between processes.
MARGIN = 0.06

# Parameters are cast explicitly: PostgreSQL cannot infer the type of `:now + :gap`.
_RESERVE = text("""
INSERT INTO airtable_rate_slots (base_id, next_at)
VALUES (:base, CAST(:now AS DOUBLE PRECISION) + CAST(:gap AS DOUBLE PRECISION))
ON CONFLICT (base_id) DO UPDATE SET next_at =
    CASE WHEN airtable_rate_slots.next_at > CAST(:now AS DOUBLE PRECISION)
         THEN airtable_rate_slots.next_at ELSE CAST(:now AS DOUBLE PRECISION) END
    + CAST(:gap AS DOUBLE PRECISION)
RETURNING next_at
""")
_PUSH_BACK = text("""
INSERT INTO airtable_rate_slots (base_id, next_at) VALUES (:base, CAST(:until AS DOUBLE PRECISION))
ON CONFLICT (base_id) DO UPDATE SET next_at =
    CASE WHEN airtable_rate_slots.next_at > CAST(:until AS DOUBLE PRECISION)
         THEN airtable_rate_slots.next_at ELSE CAST(:until AS DOUBLE PRECISION) END
""")


class RateLimiter:
    """Admits at most `rate` requests per second per base across all processes."""

    def __init__(self, rate: float = 5.0, max_wait: float = 10.0) -> None:
        self.gap = (1.0 / rate) * (1.0 + MARGIN)
        self.max_wait = max_wait

    def acquire(self, base_id: str) -> float:
        """Wait for this request's slot; returns the seconds waited.

        Raises `RateLimited` instead of waiting longer than `max_wait` (e.g. during a lock-out);
        the slot stays reserved, which only makes the limiter more conservative.
        """
        with engine().begin() as conn:
            # The clock is read once connected: a slow (first) connect must not date the request.
            now = time.time()
            next_at = conn.execute(_RESERVE, {"base": base_id, "now": now,
                                              "gap": self.gap}).scalar_one()
        slot = float(next_at) - self.gap
        wait = slot - time.time()
        if wait > self.max_wait:
            raise RateLimited("Airtable's request limit for this base is exhausted; retry later.",
                              retry_after=int(wait) + 1)
        if wait > 0:
            time.sleep(wait)
        return max(wait, 0.0)

    def lock_out(self, base_id: str, seconds: float = LOCKOUT_SECONDS) -> None:
        """Airtable answered 429: nobody uses this base until its lock-out is over."""
        with engine().begin() as conn:
            conn.execute(_PUSH_BACK, {"base": base_id, "until": time.time() + seconds})

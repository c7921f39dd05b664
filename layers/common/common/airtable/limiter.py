"""One rate limiter for every Lambda instance: request slots per base and per token, reserved in
the database.

Each request reserves its token's next free slot (Airtable allows 50 requests/s per token) and
its base's next free slot (5 requests/s per base) with atomic upserts in one transaction; slots
are spaced 1/rate seconds apart (plus a small margin for the time between taking a slot and
Airtable receiving the request), so no rolling second ever holds more than `rate` requests,
whichever process sends them. A token is keyed by a hash, never stored. A 429 from Airtable
pushes the base's next slot 30 seconds out.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import text

from common.db import engine
from common.errors import RateLimited

LOCKOUT_SECONDS = 30.0
TOKEN_RATE = 50.0  # Airtable's limit per token, across all its bases
# Fraction of each slot kept free to absorb jitter between taking a slot and Airtable receiving
# the request: 5 slots span 1.04 s, so a request may reach Airtable up to 40 ms later than the
# one five slots after it (clients reuse their connections: no handshake in that interval).
# `make bench` measures the write rate this leaves (>= 0.97 of 50 records/s, no 429).
MARGIN = 0.04

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

# When the requests sent in this context must be answered by (epoch seconds), if anything.
_ANSWER_BY: ContextVar[float | None] = ContextVar("airtable_answer_by", default=None)


def token_key(token: str) -> str:
    """The slot key of a token: a hash (the column holds 32 characters), never the token."""
    return "tok:" + hashlib.sha256(token.encode()).hexdigest()[:24]


@contextmanager
def answered_by(when: float | None) -> Iterator[None]:
    """Requests inside must be answered by `when`: no slot (or wait) past it is taken."""
    reset = _ANSWER_BY.set(when)
    try:
        yield
    finally:
        _ANSWER_BY.reset(reset)


def answer_by() -> float | None:
    """The time the current context's requests must be answered by, if one is set."""
    return _ANSWER_BY.get()


class RateLimiter:
    """Admits at most `rate` requests per second per base, and `token_rate` per token, across
    all processes."""

    def __init__(self, rate: float = 5.0, max_wait: float = 10.0,
                 token_rate: float = TOKEN_RATE) -> None:
        self.gap = (1.0 / rate) * (1.0 + MARGIN)
        self.token_gap = (1.0 / token_rate) * (1.0 + MARGIN)
        self.max_wait = max_wait

    def acquire(self, base_id: str | None, token: str | None = None) -> float:
        """Wait for this request's slots (its token's and its base's); returns the seconds waited.

        Raises `RateLimited` instead of waiting longer than `max_wait` (e.g. during a lock-out)
        or past the context's `answered_by` time; the slots stay reserved, which only makes the
        limiter more conservative.
        """
        # Always token before base: concurrent transactions lock rows in one order.
        keys = [(k, gap) for k, gap in ((token, self.token_gap), (base_id, self.gap)) if k]
        if not keys:
            return 0.0
        with engine().begin() as conn:
            # The clock is read once connected: a slow (first) connect must not date the request.
            now = time.time()
            slot = max(float(conn.execute(_RESERVE, {"base": key, "now": now, "gap": gap})
                             .scalar_one()) - gap for key, gap in keys)
        wait = slot - time.time()
        by = _ANSWER_BY.get()
        budget = self.max_wait if by is None else min(self.max_wait, by - time.time() - 1.0)
        if wait > budget:
            raise RateLimited("Airtable's request limit for this base is exhausted; retry later.",
                              retry_after=int(wait) + 1)
        if wait > 0:
            time.sleep(wait)
        return max(wait, 0.0)

    def lock_out(self, base_id: str, seconds: float = LOCKOUT_SECONDS) -> None:
        """Airtable answered 429: nobody uses this base until its lock-out is over."""
        with engine().begin() as conn:
            conn.execute(_PUSH_BACK, {"base": base_id, "until": time.time() + seconds})

"""One rate limiter for every Lambda instance: a sliding window of request slots per base and per
token, kept in the database.

Airtable counts the requests it receives in any rolling second: 5 per base, 50 per token. A
client never sees when Airtable received a request, only that it was after the request was sent
and before its answer arrived. So a key (a base, a token) has `rate` slots, each remembering when
its last request was answered; a request takes the slot answered longest ago and is sent no
earlier than one second after that answer. Then the request `rate` places after any other is
sent a full second after the other one was received, however late the network or a loaded
machine delivered it: no rolling second ever holds more than `rate` requests, whichever process
sends them, and the cost is the requests' own latency, not a fixed margin that a busy machine
exceeds. A token is keyed by a hash, never stored. A 429 marks every slot of its base answered
30 seconds out (Airtable's lock-out).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from common.db import engine
from common.errors import RateLimited
from common.observability import logger

WINDOW_SECONDS = 1.0
LOCKOUT_SECONDS = 30.0
TOKEN_RATE = 50.0  # Airtable's limit per token, across all its bases
# A slot whose answer was never reported (its process was killed mid-request) is free again
# after the longest a request may take: the client's 5 s connect and 25 s read timeouts.
STALE_SECONDS = 30.0 + WINDOW_SECONDS
# How often a request polls while every slot of its key has a request in flight.
POLL_SECONDS = 0.05

# Reads a key's slots and takes their row locks in one round trip, so choosing a slot and
# taking it is atomic across processes. PostgreSQL locks the rows in slot order (every caller
# the same order: no deadlock); SQLite has no FOR UPDATE, and a write takes its database lock.
_CLAIM = {"postgresql": text("SELECT slot, sent_at, answered_at FROM airtable_rate_window "
                             "WHERE rate_key = :key AND slot < :rate ORDER BY slot FOR UPDATE"),
          "sqlite": text("UPDATE airtable_rate_window SET slot = slot "
                         "WHERE rate_key = :key AND slot < :rate "
                         "RETURNING slot, sent_at, answered_at")}
_ADD = text("INSERT INTO airtable_rate_window (rate_key, slot, sent_at, answered_at) "
            "VALUES (:key, :slot, 0, 0) ON CONFLICT (rate_key, slot) DO NOTHING")
# The chosen slots of a request (one per key: its token's, then its base's), in one statement.
_TAKE = [text("UPDATE airtable_rate_window SET sent_at = :at, answered_at = NULL "
              "WHERE (rate_key = :key0 AND slot = :slot0)"),
         text("UPDATE airtable_rate_window SET sent_at = :at, answered_at = NULL "
              "WHERE (rate_key = :key0 AND slot = :slot0) OR (rate_key = :key1 AND slot = :slot1)")]
# Only the request that took a slot reports its answer; a lock-out set meanwhile stays.
_ANSWERED = text("UPDATE airtable_rate_window SET answered_at = :at WHERE rate_key = :key "
                 "AND slot = :slot AND sent_at = :sent AND answered_at IS NULL")
# Whether a slot taken ahead of its time is still ours when the time comes (a lock-out voids it).
_HELD = text("SELECT count(*) FROM airtable_rate_window WHERE rate_key = :key "
             "AND slot = :slot AND sent_at = :sent AND answered_at IS NULL")
_LOCK_OUT = text("UPDATE airtable_rate_window SET answered_at = :at WHERE rate_key = :key "
                 "AND (answered_at IS NULL OR answered_at < :at)")

_EXHAUSTED = "Airtable's request limit for this base is exhausted; retry later."

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


@dataclass
class Permit:
    """The slots one request holds until its answer is reported with `answered`."""

    taken: Sequence[tuple[str, int]]  # (key, slot)
    sent_at: float

    def answered(self) -> None:
        """The answer (or the failure) arrived: each slot is free one window from now."""
        if not self.taken:
            return
        try:
            with engine().begin() as conn:
                at = time.time()
                # One key at a time, token before base, in the order `acquire` locks them: one
                # statement for both could lock the base's row first and deadlock with it.
                for key, slot in self.taken:
                    conn.execute(_ANSWERED, {"at": at, "sent": self.sent_at, "key": key,
                                             "slot": slot})
        except SQLAlchemyError as e:
            # Airtable has answered; failing the request now would lose its answer. The slots
            # become free once stale.
            logger.warning("rate limiter: answer not recorded (%s)", type(e).__name__)


class RateLimiter:
    """Admits at most `rate` requests per rolling second per base, and `token_rate` per token,
    across all processes."""

    def __init__(self, rate: float = 5.0, max_wait: float = 10.0,
                 token_rate: float = TOKEN_RATE, lockout_seconds: float = LOCKOUT_SECONDS) -> None:
        # 0 turns the limiter off (Settings.airtable_rate_limit); a fraction of one still
        # admits one request a second, as it did before 0 meant off.
        self.rate = max(int(rate), 1) if rate > 0 else 0
        self.token_rate = max(int(token_rate), 1)
        self.max_wait = max_wait
        self.lockout_seconds = lockout_seconds

    @contextmanager
    def slot(self, base_id: str | None, token: str | None = None) -> Iterator[Permit]:
        """Hold the token's and the base's slots while one request is sent and answered."""
        permit = self.acquire(base_id, token)
        try:
            yield permit
        finally:
            permit.answered()

    def acquire(self, base_id: str | None, token: str | None = None) -> Permit:
        """Wait for this request's slots (its token's and its base's); the caller reports the
        answer with `Permit.answered`.

        Raises `RateLimited` instead of waiting longer than `max_wait` (e.g. during a lock-out)
        or past the context's `answered_by` time.
        """
        # Always token before base: concurrent transactions lock rows in one order.
        keys = [(k, n) for k, n in ((token, self.token_rate), (base_id, self.rate)) if k]
        if not keys or self.rate <= 0:
            return Permit([], time.time())
        started = time.time()
        by = _ANSWER_BY.get()
        give_up = started + (self.max_wait if by is None else min(self.max_wait,
                                                                   by - started - 1.0))
        while True:
            taken, at = self._take(keys, give_up)
            wait = at - time.time()
            if wait <= 0:
                break
            time.sleep(wait)
            if self._held(taken[-1], at):
                break
            # A 429 locked the base out while this request waited: it must not go now, and
            # its token slot is free again.
            Permit(taken, at).answered()
        return Permit(taken, at)

    def _take(self, keys: list[tuple[str, int]], give_up: float) -> tuple[list[tuple[str, int]],
                                                                          float]:
        """Take each key's slot free soonest, polling while all of a key's are in flight."""
        while True:
            with engine().begin() as conn:
                # The clock is read once connected: a slow (first) connect must not date it.
                now = time.time()
                chosen = [(key, *self._free_slot(conn, key, rate)) for key, rate in keys]
                at = max([now, *(free for _, _, free, _ in chosen)])
                # Every slot of a key holds a request still waiting for its answer: poll.
                busy = any(in_flight and free > now for _, _, free, in_flight in chosen)
                if not busy:
                    if at > give_up:
                        raise RateLimited(_EXHAUSTED, retry_after=int(at - now) + 1)
                    taken = [(key, slot) for key, slot, _, _ in chosen]
                    conn.execute(_TAKE[len(taken) - 1], {"at": at, **_slots(taken)})
                    break
            if time.time() + POLL_SECONDS > give_up:
                raise RateLimited(_EXHAUSTED, retry_after=1)
            time.sleep(POLL_SECONDS)
        return taken, at

    @staticmethod
    def _held(taken: tuple[str, int], at: float) -> bool:
        """Whether the slot taken for `at` is still this request's (no lock-out voided it)."""
        key, slot = taken
        with engine().connect() as conn:
            return bool(conn.execute(_HELD, {"sent": at, "key": key, "slot": slot})
                        .scalar_one())

    @staticmethod
    def _free_slot(conn: Connection, key: str, rate: int) -> tuple[int, float, bool]:
        """The key's slot free soonest: (slot, when, whether a request still holds it)."""
        claim = _CLAIM[conn.dialect.name]
        rows = conn.execute(claim, {"key": key, "rate": rate}).all()
        if len(rows) < rate:  # the key's first request
            conn.execute(_ADD, [{"key": key, "slot": n} for n in range(rate)])
            rows = conn.execute(claim, {"key": key, "rate": rate}).all()
        slot, sent, answered = min(rows, key=lambda r: _free_at(r[1], r[2]))
        return slot, _free_at(sent, answered), answered is None

    def lock_out(self, base_id: str, seconds: float | None = None) -> None:
        """Airtable answered 429: nobody uses this base until its lock-out is over."""
        seconds = self.lockout_seconds if seconds is None else seconds
        with engine().begin() as conn:
            self._free_slot(conn, base_id, self.rate)  # the base's slots exist, locked
            conn.execute(_LOCK_OUT, {"key": base_id,
                                     "at": time.time() + seconds - WINDOW_SECONDS})


def _slots(taken: Sequence[tuple[str, int]]) -> dict[str, object]:
    return {f"{name}{n}": value for n, (key, slot) in enumerate(taken)
            for name, value in (("key", key), ("slot", slot))}


def _free_at(sent_at: float, answered_at: float | None) -> float:
    if answered_at is None:
        return sent_at + STALE_SECONDS
    return answered_at + WINDOW_SECONDS

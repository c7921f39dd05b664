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

Who may take a base's slots is decided by its queue of reservations (common.airtable.queue): a
write reserves all its requests (and its undo's) up front, is refused at once when they cannot
be answered before its deadline, and then sends them consecutively when its turn comes. A
request outside any reservation goes straight to the window while nobody is queued, and
otherwise queues as a reservation of one.
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from common.airtable.queue import Booking, Request, admit, order
from common.core.db import engine
from common.core.errors import RateLimited
from common.core.observability import logger

WINDOW_SECONDS = 1.0
LOCKOUT_SECONDS = 30.0
TOKEN_RATE = 50.0  # Airtable's limit per token, across all its bases
# A slot whose answer was never reported (its process was killed mid-request) is free again
# after the longest a request may take: the client's 5 s connect and 25 s read timeouts.
STALE_SECONDS = 30.0 + WINDOW_SECONDS
# How often a request polls while every slot of its key has a request in flight.
POLL_SECONDS = 0.05
# The least time a request needs left for its own answer: no slot is taken closer than this to
# the time it must be answered by.
ANSWER_MARGIN = 0.5
# A request's latency assumed while a base has answered none lately: a holder sends its next
# request `rate` places on one window after this much more (the window counts from answers).
DEFAULT_LATENCY = 0.05
# Answers older than this say nothing of the base's current latency.
LATENCY_HORIZON = 60.0

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
# How long a waiting reservation polls at most between looks at the queue.
QUEUE_POLL_SECONDS = 0.5
# A reservation row untouched this long belongs to a process long gone: deleted.
FORGET_SECONDS = 3600.0

_QUEUE = text("SELECT id, workspace_id, background, position, requests, undo, used, touched_at, "
              "in_flight FROM airtable_reservations WHERE base_key = :key")
_TOKEN_QUEUE = text("SELECT id, workspace_id, background, position, requests, undo, used, "
                    "touched_at, in_flight FROM airtable_reservations WHERE token_key = :key")
_BOOK = text("INSERT INTO airtable_reservations (id, base_key, token_key, workspace_id, "
             "background, position, requests, undo, used, touched_at, in_flight) VALUES (:id, "
             ":base, :token, :workspace, :background, :position, :requests, :undo, 0, :at, "
             ":in_flight)")
# A waiting holder's heartbeat; a holder back after going idle goes to the back of the queue.
_TOUCH = text("UPDATE airtable_reservations SET touched_at = :at, position = :position "
              "WHERE id = :id")
_SENDING = text("UPDATE airtable_reservations SET used = used + 1, in_flight = :yes, "
                "touched_at = :at WHERE id = :id")
_RECEIVED = text("UPDATE airtable_reservations SET in_flight = :no, touched_at = :at "
                 "WHERE id = :id")
_RELEASE = text("DELETE FROM airtable_reservations WHERE id = :id")
_FORGET = text("DELETE FROM airtable_reservations WHERE base_key = :key AND touched_at < :before")
_LATENCIES = text("SELECT answered_at - sent_at FROM airtable_rate_window WHERE rate_key = :key "
                  "AND sent_at > :since AND answered_at >= sent_at AND answered_at <= :now")

# When the requests sent in this context must be answered by (epoch seconds), if anything.
_ANSWER_BY: ContextVar[float | None] = ContextVar("airtable_answer_by", default=None)
# The reservation the requests sent in this context belong to, if any.
_RESERVATION: ContextVar[Reservation | None] = ContextVar("airtable_reservation", default=None)
# Whether this context's work is background (imports, sagas, workflows): it yields to requests
# that must answer an HTTP caller.
_BACKGROUND: ContextVar[bool] = ContextVar("airtable_background", default=False)


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


@contextmanager
def background() -> Iterator[None]:
    """Requests inside are background work: they give way to interactive ones."""
    reset = _BACKGROUND.set(True)
    try:
        yield
    finally:
        _BACKGROUND.reset(reset)


@dataclass
class Reservation:
    """A run of consecutive requests of one base booked in its queue (`id` None: not booked,
    e.g. the limiter is off, or a lone request that found nobody queued)."""

    base_key: str
    token_key: str | None
    requests: int
    undo: int = 0
    workspace_id: str | None = None
    background: bool = False
    # The latest a background holder waits for its turn (epoch seconds), if it has a limit.
    wait_until: float | None = None
    id: str | None = None
    implicit: bool = field(default=False, repr=False)

    def release(self) -> None:
        """Give back what was not used: the next reservation's turn comes at once."""
        if self.id is None:
            return
        try:
            with engine().begin() as conn:
                conn.execute(_RELEASE, {"id": self.id})
        except SQLAlchemyError as e:
            # The row goes idle and loses its place after queue.IDLE_SECONDS.
            logger.warning("rate limiter: reservation not released (%s)", type(e).__name__)
        self.id = None


@dataclass
class Permit:
    """The slots one request holds until its answer is reported with `answered`."""

    taken: Sequence[tuple[str, int]]  # (key, slot)
    sent_at: float
    turn: Reservation | None = None

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
                if self.turn is not None and self.turn.id is not None:
                    if self.turn.implicit:  # a lone request's turn ends with its answer
                        conn.execute(_RELEASE, {"id": self.turn.id})
                        self.turn.id = None
                    else:
                        conn.execute(_RECEIVED, {"no": False, "at": at, "id": self.turn.id})
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

    @contextmanager
    def reserved(self, base_id: str | None, token: str | None, requests: int, undo: int = 0,
                 workspace_id: str | None = None, finish_by: float | None = None,
                 wait_until: float | None = None) -> Iterator[Reservation]:
        """Book `requests` (+ `undo`) consecutive requests of the base for the work inside,
        which sends them when its turn comes; what is left is released when it ends. Inside a
        reservation of the same base, the work uses that one.

        Raises `RateLimited` at once, with nothing booked, when the last of them could not be
        answered by `finish_by`, or the workspace would hold more than its share.
        """
        held = _RESERVATION.get()
        if held is not None and held.base_key == base_id:
            yield held
            return
        reservation = self.reserve(base_id, token, requests, undo, workspace_id, finish_by,
                                   wait_until)
        reset = _RESERVATION.set(reservation)
        try:
            yield reservation
        finally:
            _RESERVATION.reset(reset)
            reservation.release()

    def reserve(self, base_id: str | None, token: str | None, requests: int, undo: int = 0,
                workspace_id: str | None = None, finish_by: float | None = None,
                wait_until: float | None = None) -> Reservation:
        """Book a reservation at the back of the base's queue (see `reserved`); the caller
        releases it."""
        reservation = Reservation(base_id or "", token, max(requests, 1), max(undo, 0),
                                  workspace_id, _BACKGROUND.get(), wait_until)
        if not base_id or self.rate <= 0:
            return reservation
        with engine().begin() as conn:
            now = time.time()
            token_queued = 0
            if token:  # token before base, as `_take` locks them
                self._free_slot(conn, token, self.token_rate)
                token_queued = sum(b.remaining() for b in _bookings(conn, _TOKEN_QUEUE, token)
                                   if b.live(now))
            # The base's window rows are locked: bookings of one base are made one at a time.
            self._free_slot(conn, base_id, self.rate)
            conn.execute(_FORGET, {"key": base_id, "before": now - FORGET_SECONDS})
            queue = _bookings(conn, _QUEUE, base_id)
            admit(queue, token_queued,
                  Request(reservation.requests, reservation.undo, workspace_id,
                          reservation.background,
                          None if finish_by is None else finish_by - ANSWER_MARGIN),
                  now, self.spacing(conn, [base_id, token], now),
                  WINDOW_SECONDS / self.token_rate)
            self._book(conn, reservation, queue, now)
        return reservation

    def spacing(self, conn: Connection, keys: list[str | None], now: float) -> float:
        """Seconds per request one holder gets from the base: a window per `rate` requests,
        each window starting after the answer of the request `rate` places before (so plus
        its latency: the median of the recent answers of the base and of its token, whose
        50 slots say more than the base's 5)."""
        latencies = sorted(latency for key in keys if key for latency in conn.execute(
            _LATENCIES, {"key": key, "now": now, "since": now - LATENCY_HORIZON}).scalars())
        latency = latencies[len(latencies) // 2] if latencies else DEFAULT_LATENCY
        return (WINDOW_SECONDS + min(latency, WINDOW_SECONDS)) / self.rate

    @staticmethod
    def _book(conn: Connection, reservation: Reservation, queue: list[Booking],
              now: float) -> None:
        reservation.id = uuid.uuid4().hex
        position = max((b.position for b in queue), default=0) + 1
        conn.execute(_BOOK, {"id": reservation.id, "base": reservation.base_key,
                             "token": reservation.token_key,
                             "workspace": reservation.workspace_id,
                             "background": reservation.background, "position": position,
                             "requests": reservation.requests, "undo": reservation.undo,
                             "at": now, "in_flight": False})
        queue.append(Booking(reservation.id, reservation.workspace_id, reservation.background,
                             position, reservation.requests, reservation.undo, 0, now, False))

    def acquire(self, base_id: str | None, token: str | None = None) -> Permit:
        """Wait for this request's turn in its base's queue, then for its slots (its token's and
        its base's); the caller reports the answer with `Permit.answered`.

        Raises `RateLimited` instead of waiting longer than `max_wait` for a slot (e.g. during
        a lock-out), or for its turn past the context's `answered_by` time.
        """
        # Always token before base: concurrent transactions lock rows in one order.
        keys = [(k, n) for k, n in ((token, self.token_rate), (base_id, self.rate)) if k]
        if not keys or self.rate <= 0:
            return Permit([], time.time())
        held = _RESERVATION.get()
        turn = None
        if base_id:
            turn = held if held is not None and held.id is not None and \
                held.base_key == base_id else \
                Reservation(base_id, token, 1, background=_BACKGROUND.get(), implicit=True)
        try:
            while True:
                taken, at = self._take(keys, turn)
                wait = at - time.time()
                if wait <= 0:
                    break
                time.sleep(wait)
                if self._held(taken[-1], at):
                    break
                # A 429 locked the base out while this request waited: it must not go now, and
                # its token slot is free again.
                Permit(taken, at).answered()
        except BaseException:
            if turn is not None and turn.implicit:
                turn.release()
            raise
        return Permit(taken, at, turn)

    def _take(self, keys: list[tuple[str, int]], turn: Reservation | None
              ) -> tuple[list[tuple[str, int]], float]:
        """Once it is this request's turn, take each key's slot free soonest, polling while
        all of a key's are in flight."""
        started = time.time()
        by = _ANSWER_BY.get()
        if by is not None:
            turn_by = by - ANSWER_MARGIN
        elif turn is not None and turn.wait_until is not None:
            turn_by = turn.wait_until
        else:
            turn_by = started + self.max_wait
        give_up = None
        while True:
            with engine().begin() as conn:
                # The clock is read once connected: a slow (first) connect must not date it.
                now = time.time()
                chosen = [(key, *self._free_slot(conn, key, rate)) for key, rate in keys]
                pause = self._turn(conn, turn, now) if turn is not None else 0.0
                if pause:
                    if now + pause > turn_by:
                        raise RateLimited(_EXHAUSTED, retry_after=math.ceil(pause) + 1)
                else:
                    if give_up is None:  # the window's wait counts from this request's turn
                        give_up = now + (self.max_wait if by is None
                                         else min(self.max_wait, by - now - ANSWER_MARGIN))
                    at = max([now, *(free for _, _, free, _ in chosen)])
                    # Every slot of a key holds a request still waiting for its answer: poll.
                    busy = any(in_flight and free > now for _, _, free, in_flight in chosen)
                    if not busy:
                        if at > give_up:
                            raise RateLimited(_EXHAUSTED, retry_after=int(at - now) + 1)
                        taken = [(key, slot) for key, slot, _, _ in chosen]
                        conn.execute(_TAKE[len(taken) - 1], {"at": at, **_slots(taken)})
                        if turn is not None and turn.id is not None:
                            conn.execute(_SENDING, {"yes": True, "at": now, "id": turn.id})
                        break
                    pause = POLL_SECONDS
                    if time.time() + pause > give_up:
                        raise RateLimited(_EXHAUSTED, retry_after=1)
            time.sleep(pause)
        return taken, at

    def _turn(self, conn: Connection, turn: Reservation, now: float) -> float:
        """0 when `turn` is at the head of its base's queue (the base's rows are locked), else
        how long to wait before looking again. A lone request with nobody queued before it
        goes without booking; otherwise it books a reservation of one."""
        queue = _bookings(conn, _QUEUE, turn.base_key)
        if turn.id is None:
            live = [b for b in queue if b.live(now)]
            if not any(b for b in live if turn.background or not b.background):
                return 0.0
            self._book(conn, turn, queue, now)
        mine = next((b for b in queue if b.id == turn.id), None)
        if mine is None or not mine.live(now):
            # Its row went idle (or was forgotten) while its holder did something else: back
            # in the queue, behind those who came meanwhile.
            if mine is None:
                self._book(conn, turn, queue, now)
            else:
                position = max(b.position for b in queue) + 1
                conn.execute(_TOUCH, {"at": now, "position": position, "id": turn.id})
                queue = [b for b in queue if b.id != turn.id]
                queue.append(Booking(mine.id, mine.workspace_id, mine.background, position,
                                     mine.requests, mine.undo, mine.used, now, False))
            mine = next(b for b in queue if b.id == turn.id)
        served = order(b for b in queue if b.live(now))
        if served[0].id == turn.id:
            return 0.0
        conn.execute(_TOUCH, {"at": now, "position": mine.position, "id": turn.id})
        ahead = served[:served.index(mine)]
        expected = sum(max(b.remaining(), 1) for b in ahead) * WINDOW_SECONDS / self.rate
        return min(max(expected / 2, POLL_SECONDS), QUEUE_POLL_SECONDS)

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


def _bookings(conn: Connection, query: Any, key: str) -> list[Booking]:
    return [Booking(r.id, r.workspace_id, bool(r.background), int(r.position), r.requests,
                    r.undo, r.used, r.touched_at, bool(r.in_flight))
            for r in conn.execute(query, {"key": key})]


def _slots(taken: Sequence[tuple[str, int]]) -> dict[str, object]:
    return {f"{name}{n}": value for n, (key, slot) in enumerate(taken)
            for name, value in (("key", key), ("slot", slot))}


def _free_at(sent_at: float, answered_at: float | None) -> float:
    if answered_at is None:
        return sent_at + STALE_SECONDS
    return answered_at + WINDOW_SECONDS

"""A base's queue of reservations: who sends next, and whether a new reservation is admitted.

A reservation is a run of consecutive requests of one base, taken up front: a write's requests
plus what its undo would need. Reservations are served first come first served; the holder at
the head of the queue sends all of its requests before the next one sends any, so concurrent
writes no longer interleave chunk by chunk and all finish late together. Answers with a
deadline (HTTP requests: interactive) go before background work (imports, sagas, workflows,
exports), which is only slowed by them; background reservations take turns between workspaces.
A new interactive reservation is admitted only if its last slot, after every reservation ahead
of it, is answered before its deadline; a workspace may not hold more than its share of that
horizon while other workspaces wait. Pure functions over the rows the limiter reads.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from common.core.errors import RateLimited

# A holder that sends nothing for this long (its process died between requests) loses its
# place; a request in flight keeps it until stale like a window slot.
IDLE_SECONDS = 10.0
IN_FLIGHT_SECONDS = 31.0

_ELSEWHERE = ("Writes that do not need an immediate answer wait their turn instead: an import "
              "(POST /api/files/{id}/import) or a transaction (POST /api/sagas).")


@dataclass(frozen=True)
class Booking:
    """One reservation as stored: its place, its size and how much of it was used."""

    id: str
    workspace_id: str | None
    background: bool
    position: int
    requests: int  # what the work itself needs
    undo: int  # what undoing it would need on top
    used: int
    touched_at: float
    in_flight: bool

    def live(self, now: float) -> bool:
        """Whether its holder is still there (it sends, waits, or has a request in flight)."""
        return now - self.touched_at < (IN_FLIGHT_SECONDS if self.in_flight else IDLE_SECONDS)

    def remaining(self) -> int:
        """Requests it may still send: its work's, then (once past them) its undo's."""
        if self.used < self.requests:
            return self.requests - self.used
        return max(self.requests + self.undo - self.used, 0)


def order(bookings: Iterable[Booking]) -> list[Booking]:
    """The queue in serving order: interactive by arrival, then background round-robin between
    workspaces (each workspace's first, by arrival, then each one's second, ...)."""
    bookings = list(bookings)
    interactive = sorted((b for b in bookings if not b.background), key=lambda b: b.position)
    rank: Counter[str | None] = Counter()
    background = []
    for b in sorted((b for b in bookings if b.background), key=lambda b: b.position):
        background.append((rank[b.workspace_id], b.position, b))
        rank[b.workspace_id] += 1
    return [*interactive, *(b for *_, b in sorted(background, key=lambda t: t[:2]))]


@dataclass(frozen=True)
class Request:
    """A reservation asked for."""

    requests: int
    undo: int
    workspace_id: str | None
    background: bool
    finish_by: float | None  # when its last slot must be answered (epoch seconds), if ever


def admit(queue: list[Booking], token_queued: int, asked: Request, now: float,
          spacing: float, token_spacing: float) -> None:
    """Refuse (RateLimited, nothing reserved) a reservation that cannot finish in time or that
    would take more than its workspace's share of the base while others wait."""
    live = [b for b in queue if b.live(now)]
    if asked.background or asked.finish_by is None:
        return  # background work waits its turn; it has no answer to give in time
    ahead = [b for b in live if not b.background]
    # A background holder yields between requests: at most its request in flight is ahead.
    busy = 1 if any(b.background and b.in_flight for b in live) else 0
    own = asked.requests + asked.undo
    ends = now + max((sum(b.remaining() for b in ahead) + busy + own) * spacing,
                     (token_queued + own) * token_spacing)
    if ends > asked.finish_by:
        wait = ends - asked.finish_by
        raise RateLimited(
            f"This base's Airtable budget (one request per {spacing:.2f} s) is reserved by "
            f"{len(ahead)} writes and reads ahead of this one for the next "
            f"{ends - now - own * spacing:.0f} s: this write could not finish before the "
            f"request's deadline, so nothing was written. Retry after {math.ceil(wait)} s. "
            + _ELSEWHERE, retry_after=math.ceil(wait))
    _fair_share(ahead, asked, now, spacing)


def _fair_share(ahead: list[Booking], asked: Request, now: float, spacing: float) -> None:
    """A workspace with reservations queued may not hold more than 1/n of the deadline's
    horizon while n workspaces have reservations on the base: the others keep room to be
    admitted. Its first reservation is always admitted (if it fits in time)."""
    if asked.workspace_id is None or asked.finish_by is None:
        return
    workspaces = {b.workspace_id for b in ahead} | {asked.workspace_id}
    mine = sum(b.remaining() for b in ahead if b.workspace_id == asked.workspace_id)
    if len(workspaces) < 2 or not mine:
        return
    share = (asked.finish_by - now) / spacing / len(workspaces)
    if mine + asked.requests > share:
        wait = math.ceil((mine + asked.requests - share) * spacing)
        raise RateLimited(
            f"This workspace already has {mine} Airtable requests queued on this base while "
            f"{len(workspaces) - 1} other workspace(s) wait for it: it may hold at most "
            f"{share:.0f} of the {share * len(workspaces):.0f} requests the base can answer in "
            f"time. Nothing was written; retry after {wait} s. " + _ELSEWHERE,
            retry_after=wait)

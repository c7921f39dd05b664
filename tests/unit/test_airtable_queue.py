"""A base's reservation queue: serving order, what a reservation still needs, admission."""

from __future__ import annotations

import pytest

from common.airtable.queue import IDLE_SECONDS, Booking, Request, admit, order
from common.core.errors import RateLimited

NOW = 1_000_000.0
SPACING = 0.2  # 5 requests/s
TOKEN_SPACING = 0.02


def booking(position: int, requests: int = 25, *, undo: int = 0, used: int = 0,
            workspace: str | None = "wsA", background: bool = False,
            touched: float = NOW, in_flight: bool = False) -> Booking:
    return Booking(f"r{position}", workspace, background, position, requests, undo, used,
                   touched, in_flight)


def write(requests: int = 25, undo: int = 25, workspace: str | None = "wsA",
          finish_by: float | None = NOW + 27) -> Request:
    return Request(requests, undo, workspace, False, finish_by)


def test_interactive_reservations_are_served_by_arrival_before_any_background_one():
    queue = [booking(1, background=True), booking(3), booking(2, background=True), booking(4)]
    assert [b.position for b in order(iter(queue))] == [3, 4, 1, 2]


def test_background_reservations_take_turns_between_workspaces():
    queue = [booking(1, workspace="wsA", background=True),
             booking(2, workspace="wsA", background=True),
             booking(3, workspace="wsA", background=True),
             booking(4, workspace="wsB", background=True)]
    assert [b.position for b in order(queue)] == [1, 4, 2, 3]


def test_a_reservation_needs_its_work_first_and_its_undo_only_once_past_it():
    assert booking(1, 25, undo=25, used=10).remaining() == 15
    assert booking(1, 25, undo=25, used=30).remaining() == 20  # undoing
    assert booking(1, 25, undo=0, used=27).remaining() == 0  # retries beyond its budget


def test_a_holder_that_sends_nothing_for_a_while_is_no_longer_live():
    assert booking(1, touched=NOW - IDLE_SECONDS + 1).live(NOW)
    assert not booking(1, touched=NOW - IDLE_SECONDS - 1).live(NOW)
    assert booking(1, touched=NOW - IDLE_SECONDS - 1, in_flight=True).live(NOW)


def test_four_writes_of_250_records_fit_in_the_deadline_and_a_fifth_is_refused_at_once():
    queue: list[Booking] = []
    for n in range(4):  # each 25 requests, and 25 more reserved for its undo
        admit(queue, 0, write(workspace=None), NOW, SPACING, TOKEN_SPACING)
        queue.append(booking(n + 1, 25, undo=25, workspace=None))
    with pytest.raises(RateLimited) as refused:
        admit(queue, 0, write(workspace=None), NOW, SPACING, TOKEN_SPACING)
    # 100 requests ahead and its own 50 end 30 s from now: 3 s past the 27 s it has.
    assert refused.value.retry_after == 3
    assert "/api/sagas" in refused.value.message and "import" in refused.value.message


def test_only_the_work_of_reservations_ahead_counts_not_the_undo_they_will_likely_not_need():
    queue = [booking(1, 25, undo=25, used=5)]
    # 20 requests ahead + 50 of its own = 14 s: fits in 15 s, not in 13 s.
    admit(queue, 0, write(finish_by=NOW + 15), NOW, SPACING, TOKEN_SPACING)
    with pytest.raises(RateLimited):
        admit(queue, 0, write(finish_by=NOW + 13), NOW, SPACING, TOKEN_SPACING)


def test_background_work_ahead_costs_an_interactive_write_only_its_request_in_flight():
    queue = [booking(1, 50, background=True, in_flight=True),
             booking(2, 50, background=True, workspace="wsB")]
    admit(queue, 0, write(finish_by=NOW + 10.3), NOW, SPACING, TOKEN_SPACING)
    with pytest.raises(RateLimited):
        admit(queue, 0, write(finish_by=NOW + 10.1), NOW, SPACING, TOKEN_SPACING)


def test_background_reservations_are_never_refused():
    queue = [booking(n, 50) for n in range(1, 10)]
    admit(queue, 0, Request(50, 0, "wsA", True, None), NOW, SPACING, TOKEN_SPACING)


def test_the_tokens_queue_across_bases_is_counted_at_the_tokens_rate():
    # 1,400 requests queued on the token (50/s) and its own 50 end 29 s out, past 27 s.
    with pytest.raises(RateLimited):
        admit([], 1400, write(), NOW, SPACING, TOKEN_SPACING)
    admit([], 1000, write(), NOW, SPACING, TOKEN_SPACING)


def test_a_dead_holder_ahead_is_not_counted():
    queue = [booking(n, 50, touched=NOW - 60) for n in range(1, 5)]
    admit(queue, 0, write(), NOW, SPACING, TOKEN_SPACING)


def test_a_workspace_may_not_hold_more_than_its_share_while_another_waits():
    # 27 s at 5/s = 135 requests; two workspaces: 67 each.
    mine = [booking(1, 20, undo=0), booking(2, 20, undo=0), booking(3, 20, undo=0)]
    other = [booking(4, 1, workspace="wsB")]
    with pytest.raises(RateLimited) as refused:
        admit(mine + other, 0, write(20, 0), NOW, SPACING, TOKEN_SPACING)
    assert "other workspace" in refused.value.message
    assert refused.value.retry_after >= 1
    admit(mine, 0, write(20, 0), NOW, SPACING, TOKEN_SPACING)  # alone, it fits in time
    admit(mine + other, 0, write(20, 0, workspace="wsB"), NOW, SPACING, TOKEN_SPACING)


def test_a_workspaces_first_reservation_is_admitted_however_many_workspaces_wait():
    queue = [booking(n, 1, workspace=f"ws{n}") for n in range(1, 10)]
    admit(queue, 0, write(50, 0, workspace="wsNew"), NOW, SPACING, TOKEN_SPACING)

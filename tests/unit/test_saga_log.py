"""SagaLog: what a transaction's log says is applied, in flight and left to undo (no database)."""

from datetime import UTC, datetime, timedelta

from common.core.models import SagaLogEntry
from common.sagas.saga_log import Kind, SagaLog

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
OPS = [
    {"action": "create", "table": "Contacts",
     "records": [{"fields": {"Name": f"C{n}"}} for n in range(15)]},  # two chunks
    {"action": "update", "table": "Deals",
     "records": [{"id": "recD1", "fields": {"Stage": "Won"}}]},
]


class Log:
    """Builds entries as the tasks append them, one second apart."""

    def __init__(self) -> None:
        self.entries: list[SagaLogEntry] = []

    def add(self, key: str, kind: Kind, step: int | None = None, chunk: int | None = None,
            **data) -> "Log":
        self.entries.append(SagaLogEntry(key=key, kind=kind.value, step=step, chunk=chunk,
                                         data=data, at=T0 + timedelta(seconds=len(self.entries))))
        return self

    def started(self, i: int, j: int, attempt: int = 0, before=None) -> "Log":
        return self.add(f"apply/{i}/{j}/started/{attempt}", Kind.CHUNK_STARTED, i, j,
                        attempt=attempt, before=before or {})

    def applied(self, i: int, j: int, attempt: int = 0, **result) -> "Log":
        return self.add(f"apply/{i}/{j}/applied", Kind.CHUNK_APPLIED, i, j, attempt=attempt,
                        **result)

    def failed(self, i: int, j: int, attempt: int = 0, transient: bool = True) -> "Log":
        return self.add(f"apply/{i}/{j}/failed/{attempt}", Kind.CHUNK_FAILED, i, j,
                        attempt=attempt, error="Airtable failed with status 503.",
                        transient=transient)

    def log(self) -> SagaLog:
        return SagaLog(self.entries, OPS)


def test_next_chunk_walks_operations_and_their_chunks_in_order():
    log = Log()
    assert log.log().next_chunk() == (0, 0)
    log.started(0, 0).applied(0, 0, created=["rec1"])
    assert log.log().next_chunk() == (0, 1)
    log.started(0, 1).applied(0, 1, created=["rec2"])
    assert log.log().next_chunk() == (1, 0)
    log.started(1, 0).applied(1, 0, updated=["recD1"])
    assert log.log().next_chunk() is None


def test_a_chunk_that_failed_is_next_again_and_its_attempts_are_counted():
    log = Log().started(0, 0).failed(0, 0).started(0, 0, attempt=1)
    saga_log = log.log()
    assert saga_log.next_chunk() == (0, 0)
    assert [e.data["attempt"] for e in saga_log.attempts(0, 0)] == [0, 1]
    assert saga_log.open_attempt(0, 0) is saga_log.attempts(0, 0)[1]


def test_a_start_without_an_outcome_is_in_flight_only_within_the_window():
    saga_log = Log().started(0, 0).log()
    started = saga_log.attempts(0, 0)[0]
    assert saga_log.in_flight(started.at + timedelta(seconds=30), timedelta(seconds=90)) is started
    assert saga_log.in_flight(started.at + timedelta(seconds=91), timedelta(seconds=90)) is None
    closed = Log().started(0, 0).applied(0, 0, created=["rec1"]).log()
    assert closed.in_flight(started.at, timedelta(seconds=90)) is None


def test_pending_undo_is_newest_first_with_the_values_read_before_the_first_attempt():
    log = (Log().started(0, 0).applied(0, 0, created=["rec1"])
           .started(1, 0, before={"recD1": {"fldStage": "Lead"}}).failed(1, 0)
           .started(1, 0, attempt=1, before={"recD1": {"fldStage": "Won"}})
           .applied(1, 0, attempt=1, updated=["recD1"]))
    pending = log.log().pending_undo()
    assert [(i, j) for i, j, _ in pending] == [(1, 0), (0, 0)]
    assert pending[0][2]["before"] == {"recD1": {"fldStage": "Lead"}}
    assert pending[1][2]["created"] == ["rec1"]


def test_an_undone_chunk_is_no_longer_pending():
    log = (Log().started(0, 0).applied(0, 0, created=["rec1"])
           .add("undo/0/0/done", Kind.UNDO_CHUNK_DONE, 0, 0, deleted=["rec1"]))
    assert log.log().pending_undo() == []
    assert log.log().left_to_undo() == []


def test_a_create_whose_answer_was_lost_is_looked_up_since_its_first_attempt():
    log = (Log().started(0, 0).applied(0, 0, created=["recA"])
           .started(0, 1).failed(0, 1, transient=True))
    (i, j, applied), _ = log.log().pending_undo()
    assert (i, j) == (0, 1) and applied["unknown"]
    assert applied["since"] == log.entries[2].at
    assert applied["claimed"] == {"recA"}  # never adopted as this chunk's


def test_a_create_refused_for_good_leaves_nothing_to_undo():
    log = Log().started(0, 0).failed(0, 0, transient=False)
    assert log.log().pending_undo() == []


def test_left_to_undo_names_records_and_the_unknown_outcome():
    log = (Log().started(0, 0).applied(0, 0, created=["recA", "recB"])
           .started(1, 0, before={"recD1": {}}))
    left = log.log().left_to_undo()
    assert left[0] == {"step": 1, "chunk": 0, "action": "update", "table": "Deals",
                       "records": ["recD1"]}
    assert left[1] == {"step": 0, "chunk": 0, "action": "create", "table": "Contacts",
                       "records": ["recA", "recB"]}
    unknown = Log().started(0, 0).log().left_to_undo()
    assert "outcome is unknown" in unknown[0]["problem"]


def test_output_and_written_values_come_from_applied_chunks_only():
    log = (Log().started(0, 0).applied(0, 0, created=["recA"], written={"recA": {"f": 1}})
           .started(0, 1).failed(0, 1, transient=False)
           .started(1, 0).applied(1, 0, updated=["recD1"], written={"recD1": {"f": 2}}))
    saga_log = log.log()
    assert saga_log.output() == {"operations": [
        {"action": "create", "table": "Contacts", "created": ["recA"]},
        {"action": "update", "table": "Deals", "updated": ["recD1"]}]}
    assert saga_log.written() == {("Contacts", "recA"): {"f": 1}, ("Deals", "recD1"): {"f": 2}}


def test_view_tells_each_step_its_retries_and_its_compensation():
    log = (Log().add("step/0/started", Kind.STEP_STARTED, 0)
           .started(0, 0).failed(0, 0).started(0, 0, attempt=1).applied(0, 0, created=["recA"])
           .add("step/1/started", Kind.STEP_STARTED, 1)
           .started(1, 0).failed(1, 0, transient=False)
           .add("step/1/failed", Kind.STEP_FAILED, 1, error="Airtable rejected the request")
           .add("compensation/x", Kind.COMPENSATION_STARTED, reason="failure", execution="x")
           .add("undo/0/0/done", Kind.UNDO_CHUNK_DONE, 0, 0, deleted=["recA"])
           .add("undo/0/done", Kind.UNDO_STEP_DONE, 0))
    view = log.log().view(["create Contacts", "update Deals"], "compensated")
    first, second = view["steps"]
    assert first["status"] == "running" and first["chunks_applied"] == 1
    assert first["retried"] == ["Airtable failed with status 503."]
    assert first["compensation"]["status"] == "compensated"
    assert first["compensation"]["output"] == {"deleted": ["recA"]}
    assert second["status"] == "failed" and second["error"] == "Airtable rejected the request"
    assert second["compensation"]["status"] == "not_needed"
    assert view["compensation_reason"] == "failure"
    assert "left_to_undo" not in view


def test_view_repeats_what_a_failed_compensation_left_to_undo():
    left = [{"step": 0, "chunk": 0, "action": "create", "table": "Contacts", "records": ["r"]}]
    log = (Log().add("finished/failed/0", Kind.SAGA_FINISHED, status="failed",
                     left_to_undo=left))
    assert log.log().view([], "failed")["left_to_undo"] == left

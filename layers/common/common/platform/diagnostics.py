"""Tasks of the diagnostics state machine: a probe that can fail by name, and its compensation."""

from __future__ import annotations

from common.core.db import UnitOfWork
from common.core.models import DiagnosticRun


class ProbeFailed(Exception):
    """The probe was asked to fail; the state machine catches this by name and compensates."""


def probe(run_id: str, fail: bool) -> dict[str, object]:
    """Record an attempt, then succeed or raise `ProbeFailed`."""
    with UnitOfWork() as uow:
        run = uow.session.get(DiagnosticRun, run_id) or DiagnosticRun(run_id=run_id)
        run.probe_attempts = (run.probe_attempts or 0) + 1
        run.status = "failed" if fail else "succeeded"
        uow.session.add(run)
        uow.commit()
    if fail:
        raise ProbeFailed(f"probe {run_id} failed on request")
    return {"run_id": run_id, "status": "succeeded"}


def compensate(run_id: str, error: str | None) -> dict[str, object]:
    """Mark the run compensated; running it twice changes nothing more (idempotent)."""
    with UnitOfWork() as uow:
        run = uow.session.get(DiagnosticRun, run_id) or DiagnosticRun(run_id=run_id)
        run.status, run.error = "compensated", error
        uow.session.add(run)
        uow.commit()
    return {"run_id": run_id, "status": "compensated"}

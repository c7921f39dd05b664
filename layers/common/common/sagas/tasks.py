"""The saga task Lambda's actions: one entry point, each action a step of a state machine."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from common.airtable.limiter import background
from common.sagas import integration, onboarding
from common.sagas.errors import SagaGone
from common.sagas.transaction import apply, compensate

# Work a task takes on per invocation: it stops between chunks once this is spent, well inside
# the function's 60 s timeout (one chunk may wait up to 10 s for the limiter plus two requests).
BUDGET_SECONDS = 20.0


def _deadline(remaining_ms: int | None) -> float:
    budget = BUDGET_SECONDS if remaining_ms is None else min(
        BUDGET_SECONDS, max(1.0, remaining_ms / 1000 - 35))
    return time.monotonic() + budget


ACTIONS: dict[str, Callable[[dict[str, Any], float], dict[str, Any]]] = {
    "transaction.apply": lambda e, d: apply.apply(e["saga_id"], d),
    "transaction.compensate": lambda e, d: compensate.compensate(
        e["saga_id"], e["execution"], e.get("reason") or "failure", e.get("failure"), d),
    "transaction.give_up": lambda e, d: compensate.give_up(e["saga_id"], e.get("failure")),
    "onboarding.step": lambda e, d: onboarding.run_step(e["saga_id"], e["step"]),
    "onboarding.compensate": lambda e, d: onboarding.compensate(
        e["saga_id"], e["execution"], e.get("reason") or "failure", e.get("failure")),
    "onboarding.give_up": lambda e, d: onboarding.give_up(e["saga_id"], e.get("failure")),
    "integration.step": lambda e, d: integration.run_step(e["saga_id"], e["step"], d),
    "integration.compensate": lambda e, d: integration.compensate(
        e["saga_id"], e["execution"], e.get("reason") or "failure", e.get("failure")),
    "integration.give_up": lambda e, d: integration.give_up(e["saga_id"], e.get("failure")),
}


def handle(event: dict[str, Any], remaining_ms: int | None = None) -> dict[str, Any]:
    """Run the event's action (or start onboarding for a `user.registered` event)."""
    if event.get("detail-type") == "user.registered":
        return onboarding.start_for(event["detail"], event.get("id"))
    action = event["action"]
    try:
        # A saga's requests give way to those that must answer an HTTP caller in time.
        with background():
            return ACTIONS[action](event, _deadline(remaining_ms))
    except SagaGone:
        if action.endswith((".compensate", ".give_up")):
            return {"done": True, "status": "gone"}  # nothing is left to undo or to mark
        raise

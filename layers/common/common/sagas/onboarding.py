"""user_onboarding: default preferences, the demo base found, a welcome notification.

Started by `user.registered`. Each step logs its result in the same commit as its database
work, so a retried step finds it done. Nothing is written into the shared demo base: the
welcome notification links to it instead.
"""

from __future__ import annotations

import uuid
from typing import Any

from common.airtable import connections
from common.core.access import personal_workspace_id
from common.core.db import UnitOfWork
from common.core.errors import AppError
from common.core.models import User
from common.core.settings import get_settings
from common.core.tasks import Rejected, classify, failure_text
from common.sagas import log, service
from common.sagas.errors import SagaCancelled
from common.sagas.saga_log import Kind

DEFAULT_PREFERENCES: dict[str, Any] = {"theme": "system", "locale": "en", "timezone": "UTC",
                                       "onboarding": {"demo_base": True}}
_NAMESPACE = uuid.UUID("9b5c3c8e-6a1f-4f0e-9a8e-0d6c1f3e2a71")


def start_for(detail: dict[str, Any], event_id: str | None) -> dict[str, Any]:
    """Start the user's onboarding once, however often the event is delivered."""
    user_id = detail["user_id"]
    saga_id = uuid.uuid5(_NAMESPACE, f"user_onboarding:{user_id}").hex
    with UnitOfWork() as uow:
        if uow.session.get(User, user_id) is None:  # deleted before the event arrived
            return {"skipped": f"no user {user_id}"}
        workspace_id = personal_workspace_id(uow, user_id)
    service.create(UnitOfWork(), "user_onboarding", workspace_id, user_id, {"user_id": user_id},
                   saga_id)
    return {"saga_id": saga_id}


def run_step(saga_id: str, step: int) -> dict[str, Any]:
    """Run step `step` unless the log says it is done."""
    with UnitOfWork() as uow:
        _saga, found = log.open_step(uow, saga_id, step)
        if found.has(f"step/{step}/succeeded"):
            return {"step": step, "done": True}
    try:
        (_preferences, _demo_base, _welcome)[step](saga_id)
    except SagaCancelled:
        raise
    except AppError as e:
        log.step_failed(saga_id, step, e.message)
        raise classify(e) if step == 1 else Rejected(e.message) from e
    except Exception as e:  # logged on the step, then caught by the machine and compensated
        log.step_failed(saga_id, step, f"{type(e).__name__}: {e}")
        raise
    return {"step": step, "done": True}


def _preferences(saga_id: str) -> None:
    with UnitOfWork() as uow:
        saga = log.running(uow, saga_id)
        # Locked: the user may be saving preferences of their own at this moment.
        user = uow.session.get(User, saga.input["user_id"], with_for_update=True)
        if user is None:
            raise Rejected(f"User {saga.input['user_id']} no longer exists.")
        before = dict(user.preferences or {})
        added = {k: v for k, v in DEFAULT_PREFERENCES.items() if k not in before}
        user.preferences = {**before, **added}
        log.append(uow, saga, "step/0/succeeded", Kind.STEP_SUCCEEDED, step=0,
                   output={"set": sorted(added)}, added=added)
        uow.commit()


def _demo_base(saga_id: str) -> None:
    """Find the demo base the user's connections reach, for the welcome to link to."""
    base_id = get_settings().onboarding_sample_base_id
    with UnitOfWork() as uow:
        saga = log.running(uow, saga_id)
        output: dict[str, Any] = {"skipped": "no demo base is configured"}
        if base_id:
            try:
                connections.for_base(uow, saga.input["user_id"], base_id, "viewer")
                output = {"base_id": base_id}
            except AppError:
                output = {"skipped": "no connection of yours reaches the demo base"}
        log.append(uow, saga, "step/1/succeeded", Kind.STEP_SUCCEEDED, step=1, output=output)
        uow.commit()


def _welcome(saga_id: str) -> None:
    with UnitOfWork() as uow:
        saga = log.running(uow, saga_id)
        demo = log.read(uow, saga).output_of("step/1/succeeded")
        base_id = demo.get("base_id")
        body = ("The demo base is open to you: browse its tables, then connect a base of your "
                "own." if base_id else "Connect a base to get started.")
        uow.add_event("user.onboarded", {"user_id": saga.input["user_id"], "saga_id": saga.id,
                                         "title": "Your workspace is ready", "body": body,
                                         **({"demo_base_id": base_id} if base_id else {})})
        log.append(uow, saga, "step/2/succeeded", Kind.STEP_SUCCEEDED, step=2,
                   output={"notified": True})
        log.finish(uow, saga, "succeeded", output={"demo_base_id": base_id})
        uow.commit()


def compensate(saga_id: str, execution: str, reason: str,
               failure: dict[str, Any] | None) -> dict[str, Any]:
    """Undo done steps newest first: the preferences it added removed."""
    saga, found = log.start_compensation(saga_id, execution, reason, failure)
    if saga.status in log.TERMINAL:
        return {"done": True, "status": saga.status}
    done = {e.step: e.data for e in found.of(Kind.STEP_SUCCEEDED)}
    if 1 in done and not found.has("undo/1/done"):
        _nothing_to_undo(saga_id, 1)
    if 0 in done and not found.has("undo/0/done"):
        _undo_preferences(saga_id, done[0].get("added", {}))
    status = {"failure": "compensated", "cancel": "cancelled"}.get(reason, "compensated")
    with UnitOfWork() as uow:
        saga = log.locked(uow, saga_id)
        if saga.status not in log.TERMINAL:
            log.finish(uow, saga, status)
            uow.commit()
    return {"done": True, "status": status}


def _nothing_to_undo(saga_id: str, step: int) -> None:
    """A step that only read: its undo is logged as done."""
    with UnitOfWork() as uow:
        saga = log.locked(uow, saga_id)
        log.append(uow, saga, f"undo/{step}/chunk", Kind.UNDO_CHUNK_DONE, step=step, chunk=0,
                   nothing_to_undo=True)
        log.append(uow, saga, f"undo/{step}/done", Kind.UNDO_STEP_DONE, step=step)
        uow.commit()


def _undo_preferences(saga_id: str, added: dict[str, Any]) -> None:
    with UnitOfWork() as uow:
        saga = log.locked(uow, saga_id)
        user = uow.session.get(User, saga.input["user_id"], with_for_update=True)
        removed = []
        if user is not None:
            # Only what onboarding added, and only while it still holds onboarding's value.
            prefs = dict(user.preferences or {})
            removed = [k for k, v in added.items() if prefs.get(k) == v]
            user.preferences = {k: v for k, v in prefs.items() if k not in removed}
        log.append(uow, saga, "undo/0/chunk", Kind.UNDO_CHUNK_DONE, step=0, chunk=0,
                   removed=removed)
        log.append(uow, saga, "undo/0/done", Kind.UNDO_STEP_DONE, step=0)
        uow.commit()


def give_up(saga_id: str, failure: dict[str, Any] | None) -> dict[str, Any]:
    """Compensation kept failing: `failed`, with the steps left to undo."""
    with UnitOfWork() as uow:
        saga = log.locked(uow, saga_id)
        if saga.status in log.TERMINAL:
            return {"status": saga.status}
        found = log.read(uow, saga)
        left = [{"step": e.step, "name": service.STEP_NAMES["user_onboarding"][e.step or 0],
                 "output": e.data.get("output")} for e in found.of(Kind.STEP_SUCCEEDED)
                if e.step in (0, 1) and not found.has(f"undo/{e.step}/done")]
        log.finish(uow, saga, "failed", left_to_undo=left, error={
            "message": "Compensation failed; these steps are left to undo.",
            "cause": failure_text(failure), "left_to_undo": left})
        uow.commit()
    return {"status": "failed"}

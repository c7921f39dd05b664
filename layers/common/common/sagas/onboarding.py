"""user_onboarding: default preferences, a sample table in the demo base, a welcome notification.

Started by `user.registered`. Each step logs its result in the same commit as its database
work, so a retried step finds it done; the sample table is created at most once, found again
by its name if an attempt died between Airtable's answer and the log.
"""

from __future__ import annotations

import uuid
from typing import Any

from common.airtable import cache, connections
from common.db import UnitOfWork
from common.errors import AppError
from common.models import User
from common.sagas import log, service
from common.sagas.airtable_schema import read as read_schema
from common.sagas.errors import SagaCancelled, StepFailed, failure_text, named
from common.sagas.transaction import begin_compensation, read_by_ids
from common.settings import get_settings
from common.workspaces.access import personal_workspace_id

DEFAULT_PREFERENCES: dict[str, Any] = {"theme": "system", "locale": "en", "timezone": "UTC",
                                       "onboarding": {"sample_table": True}}
SAMPLE_FIELDS = [{"name": "Task", "type": "singleLineText"},
                 {"name": "Notes", "type": "multilineText"},
                 {"name": "Done", "type": "checkbox",
                  "options": {"icon": "check", "color": "greenBright"}}]
SAMPLE_ROWS = [{"Task": "Connect your own base", "Notes": "POST /api/airtable/connections"},
               {"Task": "Try a saga", "Notes": "Several tables, all or nothing"},
               {"Task": "Read the docs", "Notes": "/api/docs", "Done": True}]
_NAMESPACE = uuid.UUID("9b5c3c8e-6a1f-4f0e-9a8e-0d6c1f3e2a71")


def start_for(detail: dict[str, Any], event_id: str | None) -> dict[str, Any]:
    """Start the user's onboarding once, however often the event is delivered."""
    user_id = detail["user_id"]
    saga_id = uuid.uuid5(_NAMESPACE, f"user_onboarding:{user_id}").hex
    with UnitOfWork() as uow:
        if uow.session.get(User, user_id) is None:  # deleted before the event arrived
            return {"skipped": f"no user {user_id}"}
        workspace_id = personal_workspace_id(uow, user_id)
    service.create("user_onboarding", workspace_id, user_id, {"user_id": user_id}, saga_id)
    return {"saga_id": saga_id}


def run_step(saga_id: str, step: int) -> dict[str, Any]:
    """Run step `step` unless the log says it is done."""
    with UnitOfWork() as uow:
        _saga, entries = log.open_step(uow, saga_id, step)
        if log.has(entries, f"step/{step}/succeeded"):
            return {"step": step, "done": True}
    try:
        (_preferences, _sample_table, _welcome)[step](saga_id)
    except SagaCancelled:
        raise
    except AppError as e:
        log.step_failed(saga_id, step, e.message)
        raise named(e) if step == 1 else StepFailed(e.message) from e
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
            raise StepFailed(f"User {saga.input['user_id']} no longer exists.")
        before = dict(user.preferences or {})
        added = {k: v for k, v in DEFAULT_PREFERENCES.items() if k not in before}
        user.preferences = {**before, **added}
        log.append(uow, saga, "step/0/succeeded", "step.succeeded", step=0,
                   output={"set": sorted(added)}, added=added)
        uow.commit()


def _sample_table(saga_id: str) -> None:
    base_id = get_settings().onboarding_sample_base_id
    with UnitOfWork() as uow:
        saga = log.running(uow, saga_id)
        user = uow.session.get(User, saga.input["user_id"])
        name = f"Getting started ({(user.username if user else None) or saga_id[:8]})"
        if not base_id:
            log.append(uow, saga, "step/1/succeeded", "step.succeeded", step=1,
                       output={"skipped": "no sample base is configured"})
            uow.commit()
            return
        try:
            access = connections.for_base(uow, saga.input["user_id"], base_id, "editor")
        except AppError:
            log.append(uow, saga, "step/1/succeeded", "step.succeeded", step=1,
                       output={"skipped": "no connection of yours reaches the sample base"})
            uow.commit()
            return
    schema = read_schema(access, base_id)
    table = schema.table(name)
    with cache.invalidating(base_id):
        if table is None:
            url = access.api.build_url("meta/bases", base_id, "tables")
            table_id = access.api.request("POST", url, json={
                "name": name, "description": "Made by your onboarding.",
                "fields": SAMPLE_FIELDS})["id"]
        else:
            table_id = table.id
        target = access.api.table(base_id, table_id)
        records = target.all(max_records=1)
        created = [] if records else [r["id"] for r in target.batch_create(SAMPLE_ROWS)]
    with UnitOfWork() as uow:
        saga = log.running(uow, saga_id)
        log.append(uow, saga, "step/1/succeeded", "step.succeeded", step=1,
                   output={"base_id": base_id, "table_id": table_id, "table": name,
                           "records": created})
        uow.commit()


def _welcome(saga_id: str) -> None:
    with UnitOfWork() as uow:
        saga = log.running(uow, saga_id)
        entries = log.entries(uow, saga_id)
        sample = next((e.data["output"] for e in entries if e.key == "step/1/succeeded"), {})
        body = (f"A sample table, {sample['table']}, waits in the demo base."
                if sample.get("table_id") else "Connect a base to get started.")
        uow.add_event("user.onboarded", {"user_id": saga.input["user_id"], "saga_id": saga.id,
                                         "title": "Your workspace is ready", "body": body})
        log.append(uow, saga, "step/2/succeeded", "step.succeeded", step=2,
                   output={"notified": True})
        log.finish(uow, saga, "succeeded", output={"sample_table": sample or None})
        uow.commit()


def compensate(saga_id: str, execution: str, reason: str,
               failure: dict[str, Any] | None) -> dict[str, Any]:
    """Undo done steps newest first: sample rows deleted and table renamed, preferences reset."""
    begin_compensation(saga_id, execution, reason, failure)
    with UnitOfWork() as uow:
        saga = log.locked(uow, saga_id)
        entries = log.entries(uow, saga_id)
        if saga.status in log.TERMINAL:
            return {"done": True, "status": saga.status}
    done = {e.step: e.data for e in entries if e.kind == "step.succeeded"}
    if 1 in done and not log.has(entries, "undo/1/done"):
        _undo_sample_table(saga_id, done[1].get("output", {}))
    if 0 in done and not log.has(entries, "undo/0/done"):
        _undo_preferences(saga_id, done[0].get("added", {}))
    status = {"failure": "compensated", "cancel": "cancelled"}.get(reason, "compensated")
    with UnitOfWork() as uow:
        saga = log.locked(uow, saga_id)
        if saga.status not in log.TERMINAL:
            log.finish(uow, saga, status)
            uow.commit()
    return {"done": True, "status": status}


def _undo_sample_table(saga_id: str, output: dict[str, Any]) -> None:
    result: dict[str, Any] = {"nothing_to_undo": True}
    if output.get("table_id"):
        try:
            with UnitOfWork() as uow:
                saga = log.locked(uow, saga_id)
                access = connections.for_base(uow, saga.input["user_id"], output["base_id"],
                                              "editor")
            target = access.api.table(output["base_id"], output["table_id"])
            with cache.invalidating(output["base_id"]):
                existing = list(read_by_ids(target, output.get("records", [])))
                if existing:
                    target.batch_delete(existing)
                # Airtable's API cannot delete a table: the closest undo is an empty, renamed one.
                url = access.api.build_url("meta/bases", output["base_id"], "tables",
                                           output["table_id"])
                access.api.request("PATCH", url, json={"name": f"{output['table']} (removed)"})
            result = {"deleted": existing, "renamed": f"{output['table']} (removed)"}
        except AppError as e:
            _undo_failed(saga_id, 1, e.message)
            raise named(e, compensating=True) from e
    with UnitOfWork() as uow:
        saga = log.locked(uow, saga_id)
        log.append(uow, saga, "undo/1/chunk", "undo.chunk.done", step=1, chunk=0, **result)
        log.append(uow, saga, "undo/1/done", "undo.step.done", step=1)
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
        log.append(uow, saga, "undo/0/chunk", "undo.chunk.done", step=0, chunk=0,
                   removed=removed)
        log.append(uow, saga, "undo/0/done", "undo.step.done", step=0)
        uow.commit()


def _undo_failed(saga_id: str, step: int, message: str) -> None:
    with UnitOfWork() as uow:
        saga = log.locked(uow, saga_id)
        failures = sum(e.kind == "undo.failed" and e.step == step
                       for e in log.entries(uow, saga_id))
        log.append(uow, saga, f"undo/{step}/failed/{failures}", "undo.failed", step=step,
                   chunk=0, attempt=failures + 1, error=message)
        uow.commit()


def give_up(saga_id: str, failure: dict[str, Any] | None) -> dict[str, Any]:
    """Compensation kept failing: `failed`, with the steps left to undo."""
    with UnitOfWork() as uow:
        saga = log.locked(uow, saga_id)
        if saga.status in log.TERMINAL:
            return {"status": saga.status}
        entries = log.entries(uow, saga_id)
        left = [{"step": e.step, "name": service.STEP_NAMES["user_onboarding"][e.step or 0],
                 "output": e.data.get("output")} for e in entries
                if e.kind == "step.succeeded" and e.step in (0, 1)
                and not log.has(entries, f"undo/{e.step}/done")]
        log.finish(uow, saga, "failed", left_to_undo=left, error={
            "message": "Compensation failed; these steps are left to undo.",
            "cause": failure_text(failure), "left_to_undo": left})
        uow.commit()
    return {"status": "failed"}

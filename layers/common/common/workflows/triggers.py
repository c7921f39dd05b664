"""Triggers other than manual: schedules and Airtable changes (the minute tick), signed webhook
calls, and uploaded files. Each event has a key, so an event delivered twice runs once."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from fnmatch import fnmatch
from typing import Any

from sqlalchemy import select

from common.airtable.crypto import decrypt_token
from common.core.clock import now
from common.core.db import UnitOfWork
from common.core.errors import (
    AppError,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
)
from common.core.models import StoredFile, Workflow, Workspace, WorkspaceMember
from common.core.observability import logger
from common.workflows import eligibility, service, watches
from common.workflows.commands import HookCall, HookCaller
from common.workflows.schedules import Schedule
from common.workflows.schemas import ExecutionStarted
from common.workflows.steps import StepError

SIGNATURE_HEADER = "x-pyairtable-signature"
TOLERANCE_SECONDS = 300
# What Step Functions accepts as input: a larger trigger body would only grow every response.
MAX_BODY_BYTES = 256 * 1024
_secrets: dict[str, str] = {}  # decrypted signing secrets of this execution environment


# ---------------------------------------------------------------- the minute tick
def tick() -> dict[str, int]:
    """Start due scheduled runs and runs for new Airtable changes; refresh Airtable webhooks."""
    started = 0
    moment = now()
    with UnitOfWork() as uow:
        due = list(uow.session.scalars(select(Workflow).where(
            Workflow.enabled.is_(True), Workflow.next_run_at.is_not(None),
            Workflow.next_run_at <= moment)))
        for workflow in due:
            slot = workflow.next_run_at
            if workflow.trigger.get("type") != "schedule":
                workflow.next_run_at = None
                continue
            following = Schedule.parse(workflow.trigger["schedule"]).next_after(moment)
            try:
                _, new = service.start(uow, workflow, "schedule", f"schedule:{slot.isoformat()}",
                                       {"scheduled_for": slot.isoformat()}, None)
                started += int(new)
            except Forbidden as e:  # its owner may not run it: the schedule stops firing
                logger.info("scheduled run refused", extra={"workflow_id": workflow.id,
                                                            "reason": e.message})
            except AppError:
                logger.exception("scheduled run not started", extra={"workflow_id": workflow.id})
            # The schedule moves once its slot's run is recorded: a tick that dies before
            # finds the slot due again, and its key starts it once.
            workflow.next_run_at = following
            uow.commit()
        uow.commit()
        watched = [w.id for w in uow.session.scalars(select(Workflow).where(
            Workflow.enabled.is_(True), Workflow.watch.is_not(None)))]
    for workflow_id in watched:
        started += _poll_one(workflow_id)
    return {"scheduled": len(due), "watched": len(watched), "started": started}


def _poll_one(workflow_id: str) -> int:
    started = 0
    with UnitOfWork() as uow:
        workflow = uow.session.get(Workflow, workflow_id)
        if workflow is None or not workflow.watch \
                or eligibility.refusal(uow, workflow.run_as, workflow.workspace_id):
            return 0  # changes stay unread while its owner may not run it
        try:
            changes, moved = watches.poll(workflow)
        except (AppError, StepError) as e:
            logger.warning("airtable changes not read", extra={
                "workflow_id": workflow_id, "error": type(e).__name__,
                "reason": getattr(e, "message", "")})
            return 0
        for key, payload in changes:
            try:
                _, new = service.start(uow, workflow, "airtable_change", key, payload, None)
                started += int(new)
            except AppError:
                logger.exception("airtable_change run not started",
                                 extra={"workflow_id": workflow_id})
        # Each start commits its execution; the cursor moves only now that all are recorded:
        # a tick that dies between two starts re-reads the same changes, and their keys start
        # each once.
        workflow.watch = moved
        uow.session.add(workflow)
        uow.commit()
    return started


# ---------------------------------------------------------------- signed webhook calls
def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for a body (what a caller sends)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _parse_signature(header: str | None) -> tuple[int, list[str]]:
    if not header:
        raise Unauthorized(f"Missing {SIGNATURE_HEADER} header.")
    parts = [p.strip().split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    signatures = [v for k, v in parts if k == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit() or not signatures:
        raise Unauthorized("The signature header must be t=<unix seconds>,v1=<hex HMAC-SHA256>.")
    return int(stamps[0]), signatures


def receive_hook(cmd: HookCall, uow: UnitOfWork, caller: HookCaller) -> ExecutionStarted:
    """A signed call of a webhook-triggered workflow -> its execution (once per signature)."""
    body = cmd.body
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"A webhook trigger's body is at most {MAX_BODY_BYTES} bytes.")
    timestamp, signatures = _parse_signature(caller.signature)
    if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
        raise Unauthorized("The signature's timestamp is too old or in the future.")
    with uow:
        workflow = uow.session.get(Workflow, cmd.workflow_id)
        if workflow is None or workflow.trigger.get("type") != "webhook" \
                or not workflow.secret_ciphertext:
            raise NotFound("No webhook-triggered workflow with this id.")
        secret = _secret(workflow)
        expected = sign(secret, timestamp, body).split("v1=", 1)[1]
        # Bytes: compare_digest refuses non-ASCII text, and a header may carry any.
        valid = [s for s in signatures
                 if hmac.compare_digest(s.encode("utf-8", "replace"), expected.encode())]
        if not valid:
            raise Unauthorized("The signature does not match the body.")
        if not workflow.enabled:
            raise Conflict("This workflow is disabled.")
        execution, new = service.start(uow, workflow, "webhook", f"webhook:{valid[0]}",
                                       {"body": _body(body), "received_at": now().isoformat()},
                                       None)
        if not new:
            raise Conflict("This call was already received (same signature): not run again.")
        return ExecutionStarted(execution_id=execution.id, status=execution.status)


def _secret(workflow: Workflow) -> str:

    ciphertext = workflow.secret_ciphertext or ""
    key = hashlib.sha256(f"{workflow.id}:{ciphertext}".encode()).hexdigest()
    if key not in _secrets:
        _secrets[key] = decrypt_token(ciphertext, f"workflow:{workflow.id}")
    return _secrets[key]


def _body(body: bytes) -> Any:
    text = body.decode("utf-8", errors="replace")
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


# ---------------------------------------------------------------- uploaded files
def file_uploaded(detail: dict[str, Any]) -> dict[str, int]:
    """`file.uploaded` on the bus -> runs of the file's workspace's file_upload workflows."""
    file_id = detail.get("file_id")
    started = 0
    with UnitOfWork() as uow:
        stored = uow.session.get(StoredFile, file_id) if file_id else None
        if stored is None:
            return {"started": 0}
        workspace_id = detail.get("workspace_id") or getattr(stored, "workspace_id", None) \
            or _personal_workspace(uow, stored.owner_id)
        if workspace_id is None:
            return {"started": 0}
        candidates = uow.session.scalars(select(Workflow).where(
            Workflow.workspace_id == workspace_id, Workflow.enabled.is_(True)))
        payload = {"file": {"id": stored.id, "filename": stored.filename,
                            "content_type": stored.content_type, "size": stored.size,
                            "sha256": stored.sha256}}
        for workflow in [w for w in candidates if w.trigger.get("type") == "file_upload"]:
            suffixes = workflow.trigger.get("filename_suffixes") or []
            if suffixes and not any(fnmatch(stored.filename.lower(), f"*{s.lower()}")
                                    for s in suffixes):
                continue
            try:
                _, new = service.start(uow, workflow, "file_upload", f"file:{stored.id}",
                                       payload, stored.owner_id)
            except Forbidden:  # its owner may not run it: this trigger stays silent
                continue
            started += int(new)
    return {"started": started}


def _personal_workspace(uow: UnitOfWork, user_id: str | None) -> str | None:
    if user_id is None:
        return None

    return uow.session.scalar(select(Workspace.id).join(
        WorkspaceMember, WorkspaceMember.workspace_id == Workspace.id).where(
        Workspace.personal_of == user_id))

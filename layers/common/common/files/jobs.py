"""Starting the file state machines, and the service calls behind the import/export routes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from common.airtable import connections
from common.core import idempotency, quotas
from common.core.access import require_role
from common.core.aws import client
from common.core.db import UnitOfWork
from common.core.errors import NotFound, UpstreamError
from common.core.identity import Identity
from common.core.models import FileExport, FileImport, StoredFile
from common.core.settings import get_settings
from common.files import exports, imports, preview
from common.files.commands import ImportFile
from common.files.schemas import (
    ExportIn,
    ExportOut,
    ExportStartedOut,
    ImportOut,
    ImportPreviewOut,
    ImportStartedOut,
)


def _access_for(uow: UnitOfWork, user_id: str, base_id: str, minimum: str) -> Any:

    return connections.for_base(uow, user_id, base_id, minimum)  # type: ignore[arg-type]


def _start_execution(arn: str, name: str, payload: dict[str, Any]) -> None:
    try:
        client("stepfunctions").start_execution(stateMachineArn=arn, name=name,
                                                input=json.dumps(payload))
    except (ClientError, BotoCoreError) as e:
        raise UpstreamError("The job could not be started.") from e


def import_file(cmd: ImportFile, uow: UnitOfWork,
                identity: Identity) -> ImportStartedOut | ImportPreviewOut:
    """Start importing the file, or (dry run) preview the import with nothing written."""
    if cmd.body.dry_run:
        with uow:
            return ImportPreviewOut.model_validate(preview.dry_run(
                uow, identity.user_id, cmd.file_id, cmd.body.model_dump(), _access_for))
    return start_import(cmd, uow, identity)


def start_import(cmd: ImportFile, uow: UnitOfWork, identity: Identity,
                 access_for: Callable[..., Any] = _access_for) -> ImportStartedOut:
    """Record and start an import (idem: the same key and body start it once); `access_for`
    picks the connection (a workflow's step: its own workspace's only)."""
    user_id, file_id, spec = identity.user_id, cmd.file_id, cmd.body.model_dump()

    def work() -> dict[str, Any]:
        with uow:
            stored = uow.session.get(StoredFile, file_id)
            if stored is not None and stored.workspace_id:
                quotas.check_imports(uow, stored.workspace_id, spec["base_id"])
            import_id = imports.start(uow, user_id, file_id, spec, access_for)
        try:
            _start_execution(get_settings().file_import_state_machine_arn, import_id,
                             {"import_id": import_id})
        except UpstreamError:
            imports.fail(import_id, {"Error": "UpstreamError",
                                     "Cause": "The import job could not be started."})
            raise
        return ImportStartedOut(import_id=import_id, status="running").model_dump(mode="json")

    return ImportStartedOut.model_validate(idempotency.run_once(
        "files.import", user_id, cmd.idempotency_key, {"file_id": file_id, **spec}, work))


def import_status(import_id: str, uow: UnitOfWork, identity: Identity) -> ImportOut:
    """An import the caller may see."""
    with uow:
        job = uow.session.get(FileImport, import_id)
        if job is None:
            raise NotFound("No such import.")
        require_role(uow, identity.user_id, job.workspace_id, "viewer")
        return ImportOut.model_validate(imports.status_view(uow, job))


def start_export(cmd: ExportIn, uow: UnitOfWork, identity: Identity,
                 access_for: Callable[..., Any] = _access_for) -> ExportStartedOut:
    """Record and start an export; `access_for` picks the connection (as for imports)."""
    with uow:
        export_id = exports.start(uow, identity.user_id, cmd.model_dump(), access_for)
    try:
        _start_execution(get_settings().file_export_state_machine_arn, export_id,
                         {"export_id": export_id})
    except UpstreamError:
        exports.fail(export_id, {"Error": "UpstreamError",
                                 "Cause": "The export job could not be started."})
        raise
    return ExportStartedOut(export_id=export_id, status="running")


def export_status(export_id: str, uow: UnitOfWork, identity: Identity) -> ExportOut:
    """An export the caller may see."""
    with uow:
        job = uow.session.get(FileExport, export_id)
        if job is None:
            raise NotFound("No such export.")
        require_role(uow, identity.user_id, job.workspace_id, "viewer")
        return ExportOut.model_validate(exports.status_view(job))

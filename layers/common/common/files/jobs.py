"""Starting the file state machines, and the service calls behind the import/export routes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from common import idempotency, quotas
from common.aws import client
from common.db import UnitOfWork
from common.errors import NotFound, UpstreamError
from common.files import exports, imports, preview
from common.files.schemas import ExportIn, ImportIn
from common.models import FileExport, FileImport, StoredFile
from common.settings import get_settings
from common.workspaces.access import require_role


def _access_for(uow: UnitOfWork, user_id: str, base_id: str, minimum: str) -> Any:
    from common.airtable import connections

    return connections.for_base(uow, user_id, base_id, minimum)  # type: ignore[arg-type]


def _start_execution(arn: str, name: str, payload: dict[str, Any]) -> None:
    try:
        client("stepfunctions").start_execution(stateMachineArn=arn, name=name,
                                                input=json.dumps(payload))
    except (ClientError, BotoCoreError) as e:
        raise UpstreamError("The job could not be started.") from e


def start_import(user_id: str, file_id: str, body: ImportIn, key: str | None,
                 access_for: Callable[..., Any] = _access_for) -> dict[str, Any]:
    """Record and start an import (idem: the same key and body start it once); `access_for`
    picks the connection (a workflow's step: its own workspace's only)."""
    spec = body.model_dump()

    def work() -> dict[str, Any]:
        with UnitOfWork() as uow:
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
        return {"import_id": import_id, "status": "running"}

    return idempotency.run_once("files.import", user_id, key, {"file_id": file_id, **spec}, work)


def preview_import(user_id: str, file_id: str, body: ImportIn) -> dict[str, Any]:
    """The import's dry run: nothing recorded, nothing written."""
    with UnitOfWork() as uow:
        return preview.dry_run(uow, user_id, file_id, body.model_dump(), _access_for)


def import_status(user_id: str, import_id: str) -> dict[str, Any]:
    """An import the caller may see."""
    with UnitOfWork() as uow:
        job = uow.session.get(FileImport, import_id)
        if job is None:
            raise NotFound("No such import.")
        require_role(uow, user_id, job.workspace_id, "viewer")
        return imports.status_view(uow, job)


def start_export(user_id: str, body: ExportIn,
                 access_for: Callable[..., Any] = _access_for) -> dict[str, Any]:
    """Record and start an export; `access_for` picks the connection (as for imports)."""
    with UnitOfWork() as uow:
        export_id = exports.start(uow, user_id, body.model_dump(), access_for)
    try:
        _start_execution(get_settings().file_export_state_machine_arn, export_id,
                         {"export_id": export_id})
    except UpstreamError:
        exports.fail(export_id, {"Error": "UpstreamError",
                                 "Cause": "The export job could not be started."})
        raise
    return {"export_id": export_id, "status": "running"}


def export_status(user_id: str, export_id: str) -> dict[str, Any]:
    """An export the caller may see."""
    with UnitOfWork() as uow:
        job = uow.session.get(FileExport, export_id)
        if job is None:
            raise NotFound("No such export.")
        require_role(uow, user_id, job.workspace_id, "viewer")
        return exports.status_view(job)

"""Per-workspace quotas on long-running work against one base: one member's sagas or imports
must not take a base's whole request rate from the other workspaces that use it."""

from __future__ import annotations

from sqlalchemy import func, select

from common.core.db import UnitOfWork
from common.core.errors import RateLimited
from common.core.models import FileImport, Saga
from common.core.settings import get_settings

# What a caller is told to wait: a chunk of an import or a saga's step takes about this long.
RETRY_AFTER_SECONDS = 15


def check_imports(uow: UnitOfWork, workspace_id: str, base_id: str) -> None:
    """429 while the workspace already runs `running_imports_per_base` imports into the base."""
    limit = get_settings().running_imports_per_base
    running = uow.session.scalar(select(func.count()).select_from(FileImport).where(
        FileImport.workspace_id == workspace_id, FileImport.base_id == base_id,
        FileImport.status == "running")) or 0
    _refuse_at(running, limit, "imports", "running_imports_per_base")


def check_sagas(uow: UnitOfWork, workspace_id: str, base_id: str) -> None:
    """429 while the workspace already runs `running_sagas_per_base` sagas on the base."""
    limit = get_settings().running_sagas_per_base
    inputs = uow.session.scalars(select(Saga.input).where(
        Saga.workspace_id == workspace_id, Saga.status == "running"))
    running = sum(1 for data in inputs if (data or {}).get("base_id") == base_id)
    _refuse_at(running, limit, "sagas", "running_sagas_per_base")


def _refuse_at(running: int, limit: int, what: str, setting: str) -> None:
    if running >= limit:
        raise RateLimited(f"This workspace already runs {running} {what} on this base, its "
                          f"limit ({setting}); start this one when one of them finishes.",
                          retry_after=RETRY_AFTER_SECONDS)

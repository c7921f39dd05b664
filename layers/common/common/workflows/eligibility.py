"""Whether a workflow may run now: its owner (who it runs as) is active and edits its workspace."""

from __future__ import annotations

from common.core import access
from common.core.db import UnitOfWork
from common.core.models import User

# The steps that reach data (Airtable, files, outside URLs): refused once the owner may not run.
DATA_STEPS = frozenset({
    "airtable.list_records", "airtable.create_records", "airtable.update_records",
    "airtable.upsert_records", "airtable.delete_records", "http_request", "files.export",
    "files.import"})


def refusal(uow: UnitOfWork, run_as: str | None, workspace_id: str) -> str | None:
    """Why a workflow of `workspace_id` running as `run_as` may not run, or None when it may."""
    user = uow.session.get(User, run_as) if run_as else None
    if user is None:
        return "The member this workflow runs as is gone; an editor must save it again."
    if not user.is_active:
        return "The member this workflow runs as is deactivated; an editor must save it again."
    if not access.allows(access.role_in(uow, user.id, workspace_id), "editor"):
        return ("The member this workflow runs as is no longer an editor of its workspace; "
                "an editor must save it again.")
    return None

"""Files of a workspace: direct and presigned uploads, listing, download, deletion.

Editors upload and delete; viewers list and download. A file's type is decided by its content:
a name or media type only says what it claims to be, and a claim the content does not back is
a 422 (a PNG renamed `.csv` stays a PNG).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from common.core import cursor
from common.core.access import member_workspace_ids, require_role, resolve_workspace
from common.core.clock import now
from common.core.db import UnitOfWork
from common.core.errors import NotFound, PayloadTooLarge, ValidationFailed
from common.core.identity import Identity
from common.core.models import StoredFile, new_id
from common.core.observability import logger
from common.core.schemas import Page
from common.files import formats, storage
from common.files.commands import ListFiles, UploadFile
from common.files.schemas import DownloadLinkOut, FileOut, UploadIn, UploadStartedOut

# Base64 of 4 MiB is 5.6 MB, inside Lambda's 6 MB synchronous payload with the event around it.
MAX_DIRECT_BYTES = 4 * 1024 * 1024
MAX_PRESIGNED_BYTES = 100 * 1024 * 1024
DIRECT_PREFIX = "files/"
PRESIGNED_PREFIX = "uploads/"


def _out(row: StoredFile) -> FileOut:
    """The API's file object."""
    return FileOut(id=row.id, workspace_id=row.workspace_id, filename=row.filename,
                   content_type=row.content_type, format=row.format, size=row.size,
                   sha256=row.sha256, status=row.status, created_at=row.created_at.isoformat(),
                   **({"error": row.error} if row.error else {}))


def safe_name(filename: str) -> str:
    """The base name, without path parts or control characters, at most 200 characters."""
    name = re.sub(r"[\x00-\x1f/\\]", "_", filename.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return (name or "file")[-200:]


def object_key(prefix: str, workspace_id: str, file_id: str, filename: str) -> str:
    """Where a file's bytes live."""
    return f"{prefix}{workspace_id}/{file_id}/{safe_name(filename)}"


def uploaded_event(row: StoredFile, user_id: str | None) -> dict[str, Any]:
    """The `file.uploaded` event's detail."""
    return {"file_id": row.id, "workspace_id": row.workspace_id, "user_id": user_id,
            "filename": row.filename, "format": row.format, "size": row.size,
            "sha256": row.sha256}


def upload(cmd: UploadFile, uow: UnitOfWork, identity: Identity) -> FileOut:
    """Store a file sent through the API (up to 4 MiB) after checking its content."""
    user_id, data, filename = identity.user_id, cmd.data, cmd.filename
    with uow:
        workspace_id = resolve_workspace(uow, user_id, cmd.workspace_id, "editor")
        if len(data) > MAX_DIRECT_BYTES:
            raise too_large(len(data), MAX_DIRECT_BYTES,
                            "Use POST /api/files/uploads for larger files.")
        fmt = formats.claimed_format(filename, cmd.content_type)
        formats.verify(fmt, data[:formats.SAMPLE_BYTES], io.BytesIO(data))
        row = StoredFile(id=new_id(), owner_id=user_id, workspace_id=workspace_id,
                         filename=safe_name(filename), content_type=formats.MEDIA_TYPES[fmt],
                         format=fmt, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                         status="ready")
        row.key = object_key(DIRECT_PREFIX, workspace_id, row.id, filename)
        storage.put(row.key, data, row.content_type)
        uow.session.add(row)
        uow.add_event("file.uploaded", uploaded_event(row, user_id))
        uow.commit()
        return _out(row)


def too_large(size: int, limit: int, hint: str) -> PayloadTooLarge:
    """The 413 for a file over a limit."""
    return PayloadTooLarge(f"The file is {size} bytes; the limit is {limit} bytes. {hint}".strip())


def start_upload(cmd: UploadIn, uow: UnitOfWork, identity: Identity) -> UploadStartedOut:
    """A pending file and a presigned PUT for it; the S3 event finishes the registration."""
    user_id, size = identity.user_id, cmd.size
    with uow:
        workspace_id = resolve_workspace(uow, user_id, cmd.workspace_id, "editor")
        if size > MAX_PRESIGNED_BYTES:
            raise too_large(size, MAX_PRESIGNED_BYTES, "")
        fmt = formats.claimed_format(cmd.filename, cmd.content_type)
        row = StoredFile(id=new_id(), owner_id=user_id, workspace_id=workspace_id,
                         filename=safe_name(cmd.filename), content_type=formats.MEDIA_TYPES[fmt],
                         format=fmt, declared_size=size, status="pending")
        row.key = object_key(PRESIGNED_PREFIX, workspace_id, row.id, cmd.filename)
        uow.session.add(row)
        uow.commit()
        return UploadStartedOut(file_id=row.id,
                                upload_url=storage.upload_url(row.key, row.content_type, size),
                                method="PUT", headers={"Content-Type": row.content_type},
                                expires_in=storage.URL_SECONDS)


def register(key: str) -> dict[str, Any] | None:
    """Finish a presigned upload when its object lands: size, content check, fingerprint.

    Runs again harmlessly (S3 delivers at least once): a file no longer pending is left alone.
    An S3 event's worker, not a route: it opens its own unit of work.
    """
    landed = storage.size(key)
    with UnitOfWork() as uow:
        row = uow.session.scalar(select(StoredFile).where(StoredFile.key == key))
        if row is None:
            # Nobody announced this upload: it belongs to no workspace and is not registered.
            logger.warning("unannounced upload ignored", extra={"key": key})
            return None
        if row.status != "pending":
            return _out(row).model_dump(mode="json")
        limit = min(row.declared_size or MAX_PRESIGNED_BYTES, MAX_PRESIGNED_BYTES)
        if landed > limit:
            problem, digest = too_large(landed, limit, "").message, None
        else:
            path, landed, digest = storage.download(key)
            try:
                problem = _presigned_problem(row, path)
            finally:
                os.unlink(path)
        row.size, row.sha256 = landed, digest
        if problem:
            row.status, row.error = "failed", problem
            storage.delete(key)
        else:
            row.status = "ready"
            uow.add_event("file.uploaded", uploaded_event(row, row.owner_id))
        uow.commit()
        return _out(row).model_dump(mode="json")


def _presigned_problem(row: StoredFile, path: str) -> str | None:
    with open(path, "rb") as content:
        try:
            formats.verify(row.format or "", content.read(formats.SAMPLE_BYTES), content)
        except ValidationFailed as e:
            return e.message
    return None


def list_files(cmd: ListFiles, uow: UnitOfWork, identity: Identity) -> Page[FileOut]:
    """Files of the caller's workspaces (or one), newest first, keyset-paginated."""
    limit = cmd.limit
    with uow:
        ids = member_workspace_ids(uow, identity.user_id, cmd.workspace_id)
        query = select(StoredFile).where(StoredFile.workspace_id.in_(ids))
        if cmd.cursor:
            created, file_id = cursor.decode(cmd.cursor, 2)
            query = query.where((StoredFile.created_at < created) | (
                (StoredFile.created_at == created) & (StoredFile.id < file_id)))
        rows = list(uow.session.scalars(query.order_by(StoredFile.created_at.desc(),
                                                       StoredFile.id.desc()).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        return Page[FileOut](items=[_out(r) for r in rows], next_cursor=cursor.encode(
            rows[-1].created_at.isoformat(), rows[-1].id) if more else None)


def get(file_id: str, uow: UnitOfWork, identity: Identity) -> FileOut:
    """A file of the caller's workspaces."""
    with uow:
        return _out(get_file(uow, identity.user_id, file_id))


def get_file(uow: UnitOfWork, user_id: str, file_id: str, minimum: str = "viewer") -> StoredFile:
    """A file the caller may see (404 outside their workspaces, 403 below `minimum`)."""
    row = uow.session.get(StoredFile, file_id)
    if row is None or row.workspace_id is None:
        raise NotFound("No such file.")
    require_role(uow, user_id, row.workspace_id, minimum)  # type: ignore[arg-type]
    return row


def download_link(file_id: str, uow: UnitOfWork, identity: Identity) -> DownloadLinkOut:
    """A short-lived URL of a ready file's bytes, for the browser to open."""
    with uow:
        row = get_file(uow, identity.user_id, file_id)
        if row.status != "ready":
            raise NotFound(f"The file is {row.status}, not ready for download.")
        expires = now() + timedelta(seconds=storage.DOWNLOAD_SECONDS)
        return DownloadLinkOut(url=storage.download_url(row.key, row.filename),
                               expires_at=expires.isoformat())


def delete_file(file_id: str, uow: UnitOfWork, identity: Identity) -> None:
    """Remove the object and the metadata (its imports go with it)."""
    with uow:
        row = get_file(uow, identity.user_id, file_id, "editor")
        storage.delete(row.key)
        uow.session.delete(row)
        uow.commit()

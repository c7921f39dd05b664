"""Objects landing in the uploads bucket: fingerprint them and record them as ready."""

from __future__ import annotations

import hashlib
import posixpath
from urllib.parse import unquote_plus

from sqlalchemy import select

from common.aws import client
from common.db import UnitOfWork
from common.models import StoredFile

_CHUNK = 1024 * 1024


def fingerprint(bucket: str, key: str) -> StoredFile:
    """Hash the object and mark its file row ready (creating the row for direct uploads)."""
    obj = client("s3").get_object(Bucket=bucket, Key=key)
    digest, size = hashlib.sha256(), 0
    for chunk in obj["Body"].iter_chunks(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    with UnitOfWork() as uow:
        row = uow.session.scalar(select(StoredFile).where(StoredFile.key == key))
        if row is None:
            row = StoredFile(key=key, filename=posixpath.basename(key),
                             content_type=obj.get("ContentType") or "application/octet-stream")
            uow.session.add(row)
        row.size, row.sha256, row.status = size, digest.hexdigest(), "ready"
        uow.commit()
    return row


def object_key(s3_record_key: str) -> str:
    """S3 event keys arrive URL-encoded with `+` for spaces."""
    return unquote_plus(s3_record_key)

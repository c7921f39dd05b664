"""The uploads bucket: objects written, streamed, ranged, presigned and deleted."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from common.core.aws import client
from common.core.errors import UpstreamError
from common.core.settings import get_settings

READ_CHUNK = 256 * 1024
URL_SECONDS = 900
DOWNLOAD_SECONDS = 300


def bucket() -> str:
    """The uploads bucket's name."""
    return get_settings().uploads_bucket_name


def _s3(operation: str, **kwargs: Any) -> Any:
    try:
        return getattr(client("s3"), operation)(Bucket=bucket(), **kwargs)
    except (ClientError, BotoCoreError) as e:
        raise UpstreamError("File storage failed.") from e


def put(key: str, body: bytes | IO[bytes], content_type: str) -> None:
    """Store an object."""
    _s3("put_object", Key=key, Body=body, ContentType=content_type)


def upload_file(key: str, path: str, content_type: str) -> None:
    """Store a local file (multipart for large ones)."""
    try:
        client("s3").upload_file(path, bucket(), key, ExtraArgs={"ContentType": content_type})
    except (ClientError, BotoCoreError) as e:
        raise UpstreamError("File storage failed.") from e


def stream(key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """The object's bytes `[start, end)` as chunks."""
    kwargs: dict[str, Any] = {}
    if start or end is not None:
        kwargs["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
    body = _s3("get_object", Key=key, **kwargs)["Body"]
    yield from body.iter_chunks(READ_CHUNK)


def size(key: str) -> int:
    """The object's size; a missing object is an `UpstreamError` (S3 said it was there)."""
    return int(_s3("head_object", Key=key)["ContentLength"])


def head(key: str, size: int = 64 * 1024) -> bytes:
    """The object's first bytes."""
    return b"".join(stream(key, 0, size))


def download(key: str, suffix: str = ".download") -> tuple[str, int, str]:
    """A local copy of the object (the caller removes it), with its size and sha256."""
    digest, size = hashlib.sha256(), 0
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as copy:
        for chunk in stream(key):
            digest.update(chunk)
            size += len(chunk)
            copy.write(chunk)
    return copy.name, size, digest.hexdigest()


def delete(key: str) -> None:
    """Remove an object (absent is fine)."""
    _s3("delete_object", Key=key)


def upload_url(key: str, content_type: str, size: int) -> str:
    """A presigned PUT for exactly this key, type and length."""
    try:
        return client("s3").generate_presigned_url(
            "put_object", ExpiresIn=URL_SECONDS,
            Params={"Bucket": bucket(), "Key": key, "ContentType": content_type,
                    "ContentLength": size})
    except (ClientError, BotoCoreError) as e:
        raise UpstreamError("File storage failed.") from e


def download_url(key: str, filename: str) -> str:
    """A presigned GET (`DOWNLOAD_SECONDS`) that saves under the file's name."""
    safe = filename.replace('"', "")
    try:
        return client("s3").generate_presigned_url(
            "get_object", ExpiresIn=DOWNLOAD_SECONDS,
            Params={"Bucket": bucket(), "Key": key,
                    "ResponseContentDisposition": f'attachment; filename="{safe}"'})
    except (ClientError, BotoCoreError) as e:
        raise UpstreamError("File storage failed.") from e

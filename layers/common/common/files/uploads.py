"""Keys of objects landing in the uploads bucket, as S3 event notifications spell them."""

from urllib.parse import unquote_plus


def object_key(s3_record_key: str) -> str:
    """S3 event keys arrive URL-encoded with `+` for spaces."""
    return unquote_plus(s3_record_key)

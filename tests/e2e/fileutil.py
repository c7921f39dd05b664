"""Files as a browser fetches them: the download link, then its presigned URL without a token."""

from __future__ import annotations

from datetime import datetime

import requests


def download(api: requests.Session, headers: dict[str, str], file_id: str) -> bytes:
    """The file's bytes through `GET /download`'s `{url, expires_at}`, as an attachment."""
    link = api.get(f"/api/files/{file_id}/download", headers=headers, allow_redirects=False)
    assert link.status_code == 200, link.text
    body = link.json()
    assert datetime.fromisoformat(body["expires_at"]).tzinfo is not None
    content = requests.get(body["url"], timeout=30)
    assert content.status_code == 200, content.text
    assert content.headers["Content-Disposition"].startswith("attachment; filename=")
    return content.content

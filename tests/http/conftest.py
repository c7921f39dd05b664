"""The black-box subset: only a base URL (PYAIRTABLE_URL), as against a deployed stack.

`make test-deployed URL=<the stack's WebUrl output>` runs this folder alone; the suite runs the
same tests against its local stack (tests/e2e/test_http_subset.py).
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def base_url() -> str:
    """The stack's URL: its WebUrl output (the API under /api), or its ApiUrl output."""
    url = os.environ.get("PYAIRTABLE_URL", "").rstrip("/").removesuffix("/api")
    if not url:
        pytest.skip("PYAIRTABLE_URL is not set (make test-deployed URL=...)")
    return url

"""The tests/http subset (what `make test-deployed URL=...` runs against a deployed stack), run
in the suite against the shared local stack, so it is exercised on every run."""

from __future__ import annotations

import pytest

from tests.http.test_deployed_stack import *  # noqa: F403 (the same tests, collected here)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def base_url(stack) -> str:
    """The shared local stack's URL."""
    return stack.url

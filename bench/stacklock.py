"""The machine-wide lock every run of the local stack takes (tests/e2e, make dev, bench)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager

LOCK = "/tmp/stack.lock"  # noqa: S108 (the agreed machine-wide lock file)


@contextmanager
def stack_lock() -> Iterator[None]:
    """Held while a stack runs, as `flock /tmp/stack.lock` holds it."""
    with open(LOCK, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)

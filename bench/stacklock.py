"""The machine-wide lock every run of the local stack takes (tests/e2e, make dev, bench)."""

from __future__ import annotations

import fcntl
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

LOCK = "/tmp/stack.lock"  # noqa: S108 (the agreed machine-wide lock file)
WAITED = "bench: waited for the stack lock (s):"


@contextmanager
def stack_lock() -> Iterator[None]:
    """Held while a stack runs, as `flock /tmp/stack.lock` holds it."""
    with open(LOCK, "a") as f:
        asked = time.monotonic()
        fcntl.flock(f, fcntl.LOCK_EX)
        # `make bench` reports its own time without the time other stacks held the lock.
        print(f"{WAITED} {time.monotonic() - asked:.1f}", file=sys.stderr, flush=True)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)

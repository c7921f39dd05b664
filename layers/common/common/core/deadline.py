"""The running invocation's deadline, from its Lambda context, for work that must stop in time."""

from __future__ import annotations

import time
from typing import Any

_context: Any = None


def start(context: Any) -> None:
    """Remember this invocation's context (called by the handler wrapper)."""
    global _context
    _context = context


def at() -> float | None:
    """When Lambda ends this invocation (epoch seconds), or None when no deadline is known."""
    remaining = getattr(_context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return time.time() + remaining() / 1000

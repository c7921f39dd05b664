"""Per-base rolling-window rate limiter with a lock-out, like Airtable's 5 requests/second."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 1.0


class RateLimiter:
    """Admit at most `limit` requests per base in any rolling second, then lock the base out."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._accepted: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}

    def admit(self, base_id: str, limit: int | None, lockout_seconds: float) -> bool:
        """Record a request for the base; False means it must be answered with 429."""
        if limit is None:
            return True
        with self._lock:
            now = self.clock()
            if now < self._locked_until.get(base_id, 0.0):
                return False
            accepted = self._accepted.setdefault(base_id, deque())
            while accepted and accepted[0] <= now - WINDOW_SECONDS:
                accepted.popleft()
            if len(accepted) >= limit:
                # Rejected requests are not recorded, so after the lock-out the window is fresh.
                self._locked_until[base_id] = now + lockout_seconds
                return False
            accepted.append(now)
            return True

    def reset(self) -> None:
        """Forget all history and lock-outs."""
        with self._lock:
            self._accepted.clear()
            self._locked_until.clear()

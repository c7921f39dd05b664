"""Injected faults: what Airtable does on a bad day, on demand, per base or for every base.

A fault is one of
- `status`: answer 429, 500, 502 or 503 (Airtable's error body) without touching the data;
- `slow`: apply the request, then wait `delay` seconds before answering;
- `reset_before`: drop the connection (TCP reset) before the request is applied;
- `reset_after`: apply the request, then drop the connection: the client sees an error although
  the write happened (the nastiest case).
Each fault lasts for `count` injections and/or `seconds`, hits a matching request with
`probability`, and may be limited to writes and to one HTTP method. Tests use `emulator.faults`;
anything else can use the emulator's local `/_faults` endpoint (GET lists, POST adds one, DELETE
clears).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("status", "slow", "reset_before", "reset_after")
STATUSES = (429, 500, 502, 503)
STATUS_BODIES = {
    429: {"errors": [{"error": "RATE_LIMIT_REACHED",
                      "message": "Rate limit exceeded. Please try again later"}]},
    500: {"error": {"type": "SERVER_ERROR", "message": "Server error"}},
    502: {"error": {"type": "BAD_GATEWAY", "message": "Bad gateway"}},
    503: {"error": {"type": "SERVICE_UNAVAILABLE", "message": "Service unavailable"}},
}


class FaultError(ValueError):
    """A fault description that cannot be injected."""


@dataclass
class Fault:
    """One injected fault and how often it has struck."""

    kind: str
    status: int | None = None
    base_id: str | None = None
    count: int | None = None
    seconds: float | None = None
    probability: float = 1.0
    delay: float = 0.0
    writes_only: bool = False
    # Only requests of this HTTP method (e.g. POST: creates, not the deletes before them).
    method: str | None = None
    id: str = field(default_factory=lambda: "flt" + uuid.uuid4().hex[:12])
    injected: int = 0
    until: float | None = None

    def exhausted(self, now: float) -> bool:
        """Whether the fault has used up its count or its time."""
        return ((self.count is not None and self.injected >= self.count)
                or (self.until is not None and now >= self.until))

    def to_json(self) -> dict[str, Any]:
        """The fault as the control endpoint lists it."""
        body = asdict(self)
        body.pop("until")
        return body


@dataclass
class Decision:
    """What to do with one request: at most one failure, plus any delay before answering."""

    fault: Fault | None = None
    delay: float = 0.0

    @property
    def kind(self) -> str | None:
        return self.fault.kind if self.fault else None


class Faults:
    """The faults in force on one emulator; thread-safe."""

    def __init__(self, seed: int | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock  # what a fault's `seconds` are counted on (tests move it by hand)
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._random = random.Random(seed)

    def inject(self, kind: str, *, status: int | None = None, base_id: str | None = None,
               count: int | None = None, seconds: float | None = None,
               probability: float = 1.0, delay: float = 0.0,
               writes_only: bool = False, method: str | None = None) -> Fault:
        """Add a fault; returns it (its `injected` counter tells how often it struck)."""
        if kind not in KINDS:
            raise FaultError(f"kind must be one of {KINDS}")
        if kind == "status" and status not in STATUSES:
            raise FaultError(f"status must be one of {STATUSES}")
        if kind == "slow" and not delay > 0:
            raise FaultError("a slow fault needs a positive delay")
        if (count is not None and count < 1) or (seconds is not None and seconds <= 0):
            raise FaultError("count and seconds must be positive")
        if not 0 < probability <= 1:
            raise FaultError("probability must be in (0, 1]")
        fault = Fault(kind, status if kind == "status" else None, base_id, count, seconds,
                      probability, delay, writes_only, method.upper() if method else None)
        if seconds is not None:
            fault.until = self.clock() + seconds
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()

    def remove(self, fault: Fault) -> None:
        """Remove one fault (a no-op if it already ran out)."""
        with self._lock:
            if fault in self._faults:
                self._faults.remove(fault)

    def active(self) -> list[Fault]:
        """The faults still in force."""
        now = self.clock()
        with self._lock:
            return [f for f in self._faults if not f.exhausted(now)]

    def decide(self, base_id: str | None, is_write: bool, method: str = "GET") -> Decision:
        """Which fault (if any) strikes this request; counts it as injected."""
        now = self.clock()
        decision = Decision()
        with self._lock:
            for fault in self._faults:
                if fault.exhausted(now) or (fault.base_id is not None
                                            and fault.base_id != base_id):
                    continue
                if (fault.writes_only and not is_write) or (
                        fault.method is not None and fault.method != method):
                    continue
                if fault.kind == "slow":
                    if self._random.random() < fault.probability:
                        fault.injected += 1
                        decision.delay = max(decision.delay, fault.delay)
                elif decision.fault is None and self._random.random() < fault.probability:
                    fault.injected += 1
                    decision.fault = fault
        return decision

    def from_json(self, body: Any) -> Fault:
        """Inject a fault described by the control endpoint's JSON body."""
        if not isinstance(body, dict):
            raise FaultError("the body must be a JSON object")
        allowed = {"kind", "status", "base_id", "count", "seconds", "probability", "delay",
                   "writes_only", "method"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise FaultError(f"unknown keys {unknown}")
        if "kind" not in body:
            raise FaultError("kind is required")
        try:
            return self.inject(str(body["kind"]),
                               status=_opt(body, "status", int),
                               base_id=_opt(body, "base_id", str),
                               count=_opt(body, "count", int),
                               seconds=_opt(body, "seconds", float),
                               probability=float(body.get("probability", 1.0)),
                               delay=float(body.get("delay", 0.0)),
                               writes_only=bool(body.get("writes_only", False)),
                               method=_opt(body, "method", str))
        except (TypeError, ValueError) as e:
            raise FaultError(str(e)) from None


def _opt(body: dict[str, Any], key: str, kind: type) -> Any:
    value = body.get(key)
    return None if value is None else kind(value)

"""EventBridge schedule expressions: `rate(...)` and `cron(...)`, validated, next firing time.

Shared by the workflows scheduler (deployed) and the local runtime, which fires the
template's Schedule events with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
_DOW = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MONTHS = {m: i for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule expression."""

    rate_seconds: int | None = None
    cron: tuple[frozenset[int] | None, ...] | None = None

    @classmethod
    def parse(cls, expression: str) -> Schedule:
        """Parse `rate(5 minutes)` or `cron(0/15 * * * ? *)`; raises ValueError otherwise."""
        expression = expression.strip()
        if expression.startswith("rate(") and expression.endswith(")"):
            parts = expression[5:-1].split()
            if len(parts) != 2 or not parts[0].isdigit() or parts[1] not in _UNITS:
                raise ValueError(f"invalid rate expression: {expression}")
            value, unit = int(parts[0]), parts[1]
            # EventBridge wants the singular for 1 and the plural otherwise.
            if value < 1 or (value == 1) != (not unit.endswith("s")):
                raise ValueError(f"invalid rate expression: {expression}")
            return cls(rate_seconds=value * _UNITS[unit])
        if expression.startswith("cron(") and expression.endswith(")"):
            fields = expression[5:-1].split()
            if len(fields) != 6:
                raise ValueError(f"cron needs 6 fields: {expression}")
            # EventBridge: one of day-of-month and day-of-week is `?`, never both or neither.
            if (fields[2] == "?") == (fields[4] == "?"):
                raise ValueError(f"cron needs `?` in exactly one of day-of-month and "
                                 f"day-of-week: {expression}")
            bounds = [(0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, _MONTHS), (1, 7, _DOW),
                      (1970, 2199, {})]
            return cls(cron=tuple(_field(f, lo, hi, names)
                                  for f, (lo, hi, names) in zip(fields, bounds, strict=True)))
        raise ValueError(f"unsupported schedule expression: {expression}")

    def shortest_interval_seconds(self) -> int:
        """The least time between two firings (a cron's closest minutes within an hour)."""
        if self.rate_seconds is not None:
            return self.rate_seconds
        assert self.cron is not None
        minutes = sorted(self.cron[0] if self.cron[0] is not None else range(60))
        if len(minutes) == 1:
            return 3600 if self.cron[1] is None or len(self.cron[1]) > 1 else 86400
        gaps = [b - a for a, b in pairwise(minutes)]
        return 60 * min([*gaps, minutes[0] + 60 - minutes[-1]])

    def next_after(self, moment: datetime) -> datetime:
        """The first firing time strictly after `moment` (UTC)."""
        if self.rate_seconds is not None:
            return moment + timedelta(seconds=self.rate_seconds)
        assert self.cron is not None
        minute, hour, day, month, dow, year = self.cron
        t = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        for _ in range(60 * 24 * 366 * 2):
            if ((minute is None or t.minute in minute) and (hour is None or t.hour in hour)
                    and (day is None or t.day in day) and (month is None or t.month in month)
                    and (dow is None or (t.isoweekday() % 7) + 1 in dow)
                    and (year is None or t.year in year)):
                return t
            t += timedelta(minutes=1)
        raise ValueError("cron expression never fires")


def _field(text: str, lo: int, hi: int, names: dict[str, int]) -> frozenset[int] | None:
    if text in {"*", "?"}:
        return None
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/")
            step = int(step_text)
        if part in {"*", ""}:
            start, end = lo, hi
        elif "-" in part:
            a, b = part.split("-")
            start, end = _value(a, names), _value(b, names)
        else:
            start = _value(part, names)
            end = hi if step > 1 else start
        if not lo <= start <= end <= hi:
            raise ValueError(f"cron field out of range: {text}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, names: dict[str, int]) -> int:
    if text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():  # L, W and # are EventBridge extensions not supported here
        raise ValueError(f"unsupported cron value: {text}")
    return int(text)

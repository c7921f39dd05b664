"""The workspace access rule's cost per request (bench.membership_check) as a table row."""

from __future__ import annotations

from bench.membership_check import RUNS
from bench.membership_check import measure as measure_lookup
from bench.report import Row


def measure() -> list[Row]:
    """One row: the extra milliseconds, the old lookup as reference."""
    figures = measure_lookup()
    return [Row("workspace access rule, extra ms per request", f"{figures['extra_ms']:.2f} ms",
                f"old lookup {figures['old_ms']:.2f} ms, new {figures['new_ms']:.2f} ms",
                round(figures["new_ms"] / figures["old_ms"], 2), "", None,
                f"median of {RUNS}, warm process")]

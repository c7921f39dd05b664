"""Rows of the benchmark table: printed for people, written to bench/results.json for tools."""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"


@dataclass
class Row:
    """One figure, measured side by side with its reference in the same run."""

    figure: str
    value: str
    reference: str = ""
    ratio: float | None = None
    goal: str = ""
    met: bool | None = None
    note: str = ""

    @classmethod
    def skipped(cls, figure: str, reason: str, goal: str = "") -> Row:
        """A row that could not be measured, saying why."""
        return cls(figure, f"not measured: {reason}", goal=goal)


def median(values: list[float]) -> float:
    """The median, rounded for display."""
    return round(statistics.median(values), 1)


def machine() -> dict[str, Any]:
    """What the numbers ran on (ratios are what compare across machines)."""
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo")
                     .read_text().splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor()
    try:
        load = Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        load = "?"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                                capture_output=True, check=False).stdout.strip()
    except OSError:
        commit = ""
    import os

    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}", "load_at_start": load,
            "commit": commit, "at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def _met(row: Row) -> str:
    return "" if row.met is None else ("yes" if row.met else "NO")


def table(rows: list[Row]) -> str:
    """A Markdown table (readable in a terminal, pasteable into the README)."""
    lines = ["| figure | value | reference | ratio | goal | met? |", "|---|---|---|---|---|---|"]
    for r in rows:
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}"
        value = r.value + (f" ({r.note})" if r.note else "")
        lines.append(f"| {r.figure} | {value} | {r.reference} | {ratio} | {r.goal} | {_met(r)} |")
    return "\n".join(lines)


def write(rows: list[Row], info: dict[str, Any], path: Path = RESULTS) -> None:
    """bench/results.json: the machine and every row."""
    path.write_text(json.dumps({"machine": info, "rows": [asdict(r) for r in rows]}, indent=2)
                    + "\n")


def rows_from_json(text: str) -> list[Row]:
    """Rows a part printed as its last line of output (each part runs in its own process)."""
    return [Row(**r) for r in json.loads(text)]

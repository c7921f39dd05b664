"""Rows of the issues still landing: each comes from its own bench module once that exists
(`bench/<name>.py` with `measure() -> list[Row]`), else the row says why it is missing."""

from __future__ import annotations

import importlib
import subprocess

from bench.report import ROOT, Row

# module -> (figures it provides, goal, the code it measures)
PENDING = {
    "bench.sagas": (["saga latency and state transitions (k operations)"],
                    "transitions <= 3k + 4", "layers/common/common/sagas"),
    "bench.workflows": (["workflow execution latency"], "", "layers/common/common/workflows"),
    "bench.imports": (["import throughput, 5,000 rows", "peak memory, 100,000-row import"], "",
                      "layers/common/common/files/imports.py"),
}


def _committed(path: str) -> bool:
    done = subprocess.run(["git", "log", "-1", "--format=%h", "--", path], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    return bool(done.stdout.strip())


def measure() -> list[Row]:
    """Each pending module's rows, or one skipped row per figure with the reason."""
    rows: list[Row] = []
    for module, (figures, goal, code) in PENDING.items():
        if (ROOT / (module.replace(".", "/") + ".py")).exists():
            rows.extend(importlib.import_module(module).measure())
            continue
        reason = (f"{code} has landed, no {module.replace('.', '/')}.py measures it yet"
                  if _committed(code) else f"{code} has not landed yet")
        rows.extend(Row.skipped(figure, reason, goal) for figure in figures)
    return rows

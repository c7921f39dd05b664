"""Rows of the issues still landing: each comes from its own bench module once that exists
(`bench/<name>.py` with `measure() -> list[Row]`), else the rows say why they are missing."""

from __future__ import annotations

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


def available(module: str) -> bool:
    """Whether the module's file exists (its issue has added its bench script)."""
    return (ROOT / (module.replace(".", "/") + ".py")).exists()


def _committed(path: str) -> bool:
    done = subprocess.run(["git", "log", "-1", "--format=%h", "--", path], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    return bool(done.stdout.strip())


def skipped(module: str) -> list[Row]:
    """One row per figure the missing module would provide, with the reason."""
    figures, goal, code = PENDING[module]
    reason = (f"{code} has landed, no {module.replace('.', '/')}.py measures it yet"
              if _committed(code) else f"{code} has not landed yet")
    return [Row.skipped(figure, reason, goal) for figure in figures]

"""`make bench`: every part in a process of its own, one table, bench/results.json.

`python -m bench` runs every part; `python -m bench --part NAME` runs one and prints its rows
as JSON on the last line (how the parts report to the whole).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from typing import Any

from bench.report import ROOT, Row, machine, rows_from_json, table, write
from bench.stacklock import WAITED

# name -> module with measure() -> list[Row]; the last three come with their issues (sagas,
# workflows, files) and are reported as not measured until their module exists.
PARTS: dict[str, str] = {
    "coldstart": "bench.coldstart",
    "airtable": "bench.airtable_economy",
    "stack": "bench.stack_load",
    "membership": "bench.membership",
    "sagas": "bench.sagas",
    "workflows": "bench.workflows",
    "imports": "bench.imports",
    "contention": "bench.contention",
    "mcp": "bench.mcp",
    "iam": "bench.iam_check",
    "web": "bench.web_ui",
}


def _run_part(name: str, waited: list[float]) -> list[Row]:
    started = time.perf_counter()
    print(f"bench: {name} ...", flush=True)
    done = subprocess.run([sys.executable, "-m", "bench", "--part", name], cwd=ROOT,
                          capture_output=True, text=True, env=os.environ.copy(), check=False)
    lines = done.stdout.strip().splitlines()
    waits = [float(line.rsplit(" ", 1)[1]) for line in done.stderr.splitlines()
             if line.startswith(WAITED)]
    waited.extend(waits)
    print(f"bench: {name} took {time.perf_counter() - started:.0f} s"
          f"{f' ({sum(waits):.0f} s of it waiting for the stack lock)' if waits else ''}",
          flush=True)
    if done.returncode != 0 or not lines or not lines[-1].startswith("["):
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return [Row.skipped(f"part {name}", "it failed: " + " / ".join(tail)[-300:])]
    return rows_from_json(lines[-1])


def _part(name: str) -> list[dict[str, Any]]:
    import importlib

    from bench import pending

    if PARTS[name] in pending.PENDING and not pending.available(PARTS[name]):
        return [asdict(r) for r in pending.skipped(PARTS[name])]
    module = importlib.import_module(PARTS[name])
    return [asdict(r) for r in module.measure()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--part", choices=sorted(PARTS))
    parser.add_argument("--only", help="comma-separated parts to run (default: all)")
    args = parser.parse_args(argv)
    if args.part:
        print(json.dumps(_part(args.part)), flush=True)
        return 0
    names = args.only.split(",") if args.only else list(PARTS)
    # As for the tests: DATABASE_URL (PostgreSQL in CI), else a SQLite file of this run.
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tempfile.gettempdir()}/"
                                          f"pyairtable-bench-{os.getpid()}.db")
    info = machine()
    started = time.perf_counter()
    waited: list[float] = []
    rows = [row for name in names for row in _run_part(name, waited)]
    info["duration_s"] = round(time.perf_counter() - started - sum(waited))
    info["lock_wait_s"] = round(sum(waited))
    print()
    print(f"Machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}, load "
          f"{info['load_at_start']} at start; commit {info['commit']}, {info['at']}, "
          f"{info['duration_s']} s (plus {info['lock_wait_s']} s waiting for the stack lock)")
    print(table(rows))
    write(rows, info)
    print(f"\nwritten to {(ROOT / 'bench' / 'results.json').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

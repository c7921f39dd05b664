"""Schemathesis over the stack's own OpenAPI document, signed in: no 5xx, responses as documented.

`make fuzz` runs it with a large budget against a stack of its own; tests/e2e/test_fuzz.py runs
it with a small one against the suite's stack.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
# Operations that end the fuzzing identity's own access; fuzzing them would sign the run out.
SELF_ENDING = [
    "POST /api/auth/logout", "DELETE /api/users/me", "POST /api/auth/password",
    "DELETE /api/auth/sessions/{session_id}",
]
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance," \
         "response_schema_conformance"


def signed_in_headers(base_url: str) -> dict[str, str]:
    """A fresh account's bearer header."""
    email = f"fuzz-{uuid.uuid4().hex[:10]}@example.com"
    response = requests.post(f"{base_url}/api/auth/register", timeout=60,
                             json={"email": email, "password": "Fuzzing-Is-Fun-2026"})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def run(base_url: str, max_examples: int, report_dir: Path, seed: int = 1,
        timeout: float = 3600) -> subprocess.CompletedProcess[str]:
    """One schemathesis run; its exit code is 0 when every check held. Past `timeout` it is
    killed (raising TimeoutExpired), never left fuzzing a stack that later tests use."""
    headers = signed_in_headers(base_url)
    command = [str(Path(sys.executable).with_name("st")), "run", f"{base_url}/api/openapi.json",
               "--url", base_url, "--checks", CHECKS, "--max-examples", str(max_examples),
               "--seed", str(seed), "--phases", "examples,coverage,fuzzing",
               # One thread: Hypothesis parses source to describe strategies, and CPython
               # 3.11.7's AST constructor is not thread-safe ("AST constructor recursion depth
               # mismatch", fixed in 3.11.8), which crashed the fuzzer, not the API.
               "--workers", "1",
               "--generation-database", "none", "--no-color",
               "--report", "junit", "--report-dir", str(report_dir)]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    for operation in SELF_ENDING:
        command += ["--exclude-name", operation]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def main() -> int:
    """`make fuzz`: a stack of its own, a larger budget."""
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.runner")
    parser.add_argument("--max-examples", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    import os

    from local.runtime.stack import LocalStack, Options

    out = ROOT / ".local" / "fuzz"
    out.mkdir(parents=True, exist_ok=True)
    stack = LocalStack(Options(port=0, database_url=os.environ.get("DATABASE_URL"), quiet=True,
                               worker_log=out / "workers.log")).start()
    try:
        completed = run(stack.url, args.max_examples, out, args.seed)
    finally:
        stack.stop()
    (out / "report.txt").write_text(completed.stdout + completed.stderr, encoding="utf-8")
    print(completed.stdout[-6000:])
    print(f"full report: {out / 'report.txt'}")
    return completed.returncode


if __name__ == "__main__":
    raise SystemExit(main())

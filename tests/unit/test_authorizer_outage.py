"""The lean authorizer with its database unreachable lets the request through marked degraded
(every route then answers 503), as the authorizer did before it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from tests.helpers import ROOT

_PROBE = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import app
key = "pyat_deadbeef_" + "a" * 43
print(json.dumps(app.lambda_handler({"headers": {"Authorization": "Bearer " + key}}, None)))
"""


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_database_is_a_degraded_pass_not_a_refusal_or_an_error():
    env = {"PATH": os.environ.get("PATH", ""), "AWS_LAMBDA_FUNCTION_NAME": "authorizer",
           "DATABASE_URL": f"postgresql+pg8000://postgres@127.0.0.1:{_closed_port()}/none"}
    done = subprocess.run([sys.executable, "-c", _PROBE, str(ROOT / "functions" / "authorizer"),
                           str(ROOT / "layers" / "common")], capture_output=True, text=True,
                          check=True, env=env)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "isAuthorized": True, "context": {"degraded": "database"}}

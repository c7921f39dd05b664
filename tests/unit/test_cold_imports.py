"""What a cold start imports: the authorizer (on every request's path) loads neither the X-Ray
SDK nor the ORM, and a traced handler loads the X-Ray SDK only where tracing is on."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.helpers import ROOT

_PROBE = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import app
if len(sys.argv) > 3:
    app.lambda_handler({}, None)
print(json.dumps({m: sys.modules.get(m) is not None for m in
                  ("aws_xray_sdk", "sqlalchemy.orm", "common.core.models", "pyairtable",
                   "sqlalchemy", "pydantic", "botocore", "aws_lambda_powertools", "cryptography")}))
"""


def _loaded(code_dir: str, env: dict[str, str], invoke: bool = False) -> dict[str, bool]:
    args = [sys.executable, "-c", _PROBE, str(ROOT / code_dir), str(ROOT / "layers" / "common")]
    done = subprocess.run([*args, "invoke"] if invoke else args, capture_output=True, text=True,
                          check=True, env={"PATH": os.environ.get("PATH", ""), **env})
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_authorizer_loads_only_the_standard_library_pyjwt_and_pg8000():
    # A refused credential runs the handler without a database or a secret.
    loaded = _loaded("functions/authorizer", {"LAMBDA_TASK_ROOT": "/var/task",
                                              "AWS_LAMBDA_FUNCTION_NAME": "authorizer"},
                     invoke=True)
    assert not any(loaded.values()), loaded


def test_a_traced_handler_loads_the_xray_sdk_only_when_tracing_is_on(tmp_path):
    (tmp_path / "app.py").write_text(
        "from common.core.observability import traced\n\n"
        "@traced\ndef lambda_handler(event, context):\n    return {}\n")
    code = str(tmp_path)  # ROOT / an absolute path is that path
    off = _loaded(code, {"POWERTOOLS_TRACE_DISABLED": "true", "LAMBDA_TASK_ROOT": "/var/task"},
                  invoke=True)
    imported_only = _loaded(code, {"LAMBDA_TASK_ROOT": "/var/task"})
    on = _loaded(code, {"LAMBDA_TASK_ROOT": "/var/task",
                        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR"}, invoke=True)
    assert (off["aws_xray_sdk"], imported_only["aws_xray_sdk"], on["aws_xray_sdk"]) == \
        (False, False, True)

"""No log call passes a LogRecord attribute as `extra`: logging raises KeyError for it, so the
call that reports a problem would crash the function instead (the workflow tick did)."""

from __future__ import annotations

import ast
import logging

from tests.helpers import ROOT

RESERVED = set(vars(logging.LogRecord("n", 0, "p", 0, "m", None, None))) | {"message", "asctime"}


def _extra_keys() -> list[tuple[str, int, str]]:
    found = []
    for path in [*ROOT.glob("functions/**/*.py"), *ROOT.glob("layers/common/common/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                if keyword.arg == "extra" and isinstance(keyword.value, ast.Dict):
                    found += [(str(path.relative_to(ROOT)), key.lineno, key.value)
                              for key in keyword.value.keys
                              if isinstance(key, ast.Constant) and isinstance(key.value, str)]
    return found


def test_log_calls_never_overwrite_a_log_record_attribute():
    keys = _extra_keys()
    assert keys, "the scan found no log call with extra fields"
    assert [k for k in keys if k[2] in RESERVED] == []

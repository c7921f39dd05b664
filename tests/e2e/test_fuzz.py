"""Schemathesis, signed in, over every documented route: no 5xx and answers as documented."""

from __future__ import annotations

from tests.fuzz.runner import run


def test_no_route_answers_a_server_error_or_off_contract(stack, tmp_path):
    completed = run(stack.url, max_examples=3, report_dir=tmp_path)
    assert completed.returncode == 0, completed.stdout[-15000:] + completed.stderr[-3000:]

"""With AIRTABLE_TOKEN set, the local stack talks to that Airtable instead of its emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from local.airtable_emulator import AirtableEmulator
from local.runtime.stack import LocalStack, Options
from tests.helpers import ROOT


def test_a_configured_token_replaces_the_emulator(database_url):
    # A second emulator stands in for api.airtable.com: tests never call the real service.
    real = AirtableEmulator(tokens={"patREALTOKEN00000.abcd": "usrREAL0000000001"}).start()
    env = {**os.environ, "DATABASE_URL": database_url, "AIRTABLE_TOKEN": "patREALTOKEN00000.abcd",
           "AIRTABLE_ENDPOINT_URL": real.url}
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "local.runtime", "invoke", "AirtableFunction",
             "-e", "events/airtable/health.json"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    finally:
        real.stop()
    assert completed.returncode == 0, completed.stderr
    response = json.loads(completed.stdout[completed.stdout.index("{"):])
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["checks"]["airtable"]["status"] == "ok"
    assert [(method, path) for _, method, path, *_ in real.requests] == [
        ("GET", "/v0/meta/whoami")]


def test_only_one_stack_runs_per_process(stack):
    with pytest.raises(RuntimeError, match="already running"):
        LocalStack(Options(port=None, quiet=True)).start()

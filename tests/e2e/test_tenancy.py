"""Tenancy under the deployed default settings, in a stack and a database of its own."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT, sibling_database

pytestmark = pytest.mark.own_stack

SCENARIO = ROOT / "tests" / "e2e" / "scenarios" / "admins_default_connection.py"


def test_with_default_connection_for_admins_only_membership_grants_airtable(database_url):
    env = {**os.environ, "DATABASE_URL": sibling_database(database_url, "tenancy"),
           "E2E_DEFAULT_CONNECTION": "admins"}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(SCENARIO)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-2000:]
    assert "3 passed" in completed.stdout, completed.stdout[-2000:]

"""Shared fixtures for integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.airtable_emulator import AirtableEmulator

EMULATOR_TOKEN = "patTEST"
EMULATOR_USER_ID = "usrTEST0000000001"


@pytest.fixture
def airtable_emulator() -> Iterator[AirtableEmulator]:
    """A running Airtable emulator accepting `patTEST`, with rate limiting off.

    Tests that exercise the 5 requests/second limit set `emulator.rate_limit = 5`
    (and a short `emulator.lockout_seconds`) themselves.
    """
    emulator = AirtableEmulator(
        tokens={EMULATOR_TOKEN: EMULATOR_USER_ID}, rate_limit=None, lockout_seconds=1.0
    ).start()
    try:
        yield emulator
    finally:
        emulator.stop()

"""The local stack, started once per session as `make dev` starts it, on a free port."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import requests

from local.runtime.stack import LocalStack, Options

ADMIN_EMAIL = "admin@example.com"


@pytest.fixture(scope="session")
def stack(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The whole stack; worker logs go to a file tests can read (`stack.options.worker_log`)."""
    log = tmp_path_factory.mktemp("stack") / "workers.log"
    # `make dev`'s tenancy settings unless a module in its own process asks for the deployed
    # ones (tests/e2e/test_tenancy.py runs with DEFAULT_CONNECTION=admins).
    tenancy = {"REGISTRATION": os.environ.get("E2E_REGISTRATION", "open"),
               "DEFAULT_CONNECTION": os.environ.get("E2E_DEFAULT_CONNECTION", "every_workspace")}
    # A hosts file the functions consult before DNS: tests map names (and re-map them, as a
    # DNS rebinding would) without a resolver of their own (tests/e2e/test_webhooks.py).
    hosts = log.parent / "hosts"
    hosts.write_text("")
    local = LocalStack(Options(port=0, database_url=database_url, admin_emails=ADMIN_EMAIL,
                               worker_log=log, quiet=True,
                               # Every test connects from 127.0.0.1: the per-IP limit of the
                               # auth routes is tested on a stack of its own (test_email_flows).
                               auth_ip_limit_per_minute=100_000,
                               extra_env={**tenancy, "OUTBOUND_HOSTS_FILE": str(hosts)})).start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def api(stack: LocalStack) -> requests.Session:
    """An HTTP session whose relative URLs go to the stack's router."""
    session = _BaseUrlSession(stack.url)
    return session


class _BaseUrlSession(requests.Session):
    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base

    def request(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        kwargs.setdefault("timeout", 60)
        return super().request(method, self.base + url, *args, **kwargs)

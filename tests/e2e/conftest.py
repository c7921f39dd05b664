"""The local stack, started once per session as `make dev` starts it, on a free port."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from local.runtime.stack import LocalStack, Options
from tests.faults.tcp_proxy import TcpProxy

ADMIN_EMAIL = "admin@example.com"


@pytest.fixture(scope="session")
def database_link(database_url: str) -> Iterator[TcpProxy | None]:
    """The stack reaches PostgreSQL through a relay tests can cut (tests/e2e/test_outage.py)."""
    if not database_url.startswith("postgresql"):
        yield None
        return
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture(scope="session")
def stack(database_url: str, database_link: TcpProxy | None,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The whole stack; worker logs go to a file tests can read (`stack.options.worker_log`)."""
    if database_link is not None:
        database_url = make_url(database_url).set(host="127.0.0.1", port=database_link.port) \
            .render_as_string(hide_password=False)
    log = tmp_path_factory.mktemp("stack") / "workers.log"
    # `make dev`'s tenancy settings unless a module in its own process asks for the deployed
    # ones (tests/e2e/test_tenancy.py runs with DEFAULT_CONNECTION=admins).
    tenancy = {"registration": os.environ.get("E2E_REGISTRATION", "open"),
               "default_connection": os.environ.get("E2E_DEFAULT_CONNECTION", "every_workspace")}
    # A hosts file the functions consult before DNS: tests map names (and re-map them, as a
    # DNS rebinding would) without a resolver of their own (tests/e2e/test_webhooks.py).
    hosts = log.parent / "hosts"
    hosts.write_text("")
    local = LocalStack(Options(port=0, database_url=database_url, admin_emails=ADMIN_EMAIL,
                               worker_log=log, quiet=True,
                               # Every test connects from 127.0.0.1: the per-IP limit of the
                               # auth routes is tested on a stack of its own (test_email_flows).
                               auth_ip_limit_per_minute=100_000,
                               # Airtable's 30 s lock-out after a 429, scaled down alike in
                               # the emulator and the functions (`make faults` runs with 30).
                               airtable_lockout_seconds=float(
                                   os.environ.get("E2E_AIRTABLE_LOCKOUT_SECONDS", "5")),
                               extra_env={"OUTBOUND_HOSTS_FILE": str(hosts)}, **tenancy)).start()
    _running.append(local)
    try:
        yield local
    finally:
        local.stop()


_running: list[LocalStack] = []
# Titles the product writes must read as sentences: no placeholder, no bare id, no "Saga".
UNREADABLE_TITLE = re.compile(r"\?|\b[0-9a-f]{32}\b|\bsaga\b", re.IGNORECASE)
# Titles a person typed (a workflow's notify step) are theirs to word.
OWN_WORDS = ("workflow.notification",)


@pytest.fixture(scope="session", autouse=True)
def notification_titles_read_as_sentences(database_url: str) -> Iterator[None]:
    """After the session, every notification title its flows produced is scanned (issue 26)."""
    yield
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            titles = connection.execute(text("SELECT type, title FROM notifications")).all()
    finally:
        engine.dispose()
    unreadable = sorted({(kind, title) for kind, title in titles
                         if kind not in OWN_WORDS and UNREADABLE_TITLE.search(title)})
    assert not unreadable, f"notification titles a person cannot read: {unreadable}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that start a stack of their own run before this directory's stack starts: two
    stacks at once would share PostgreSQL's connections and the 2 cores."""
    here = Path(__file__).parent
    ours = [n for n, item in enumerate(items) if here in Path(item.path).parents]
    if not ours:
        return
    block = items[ours[0]:ours[-1] + 1]
    own = [item for item in block if item.get_closest_marker("own_stack")]
    items[ours[0]:ours[-1] + 1] = own + [item for item in block if item not in own]


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop the stack once the run leaves this directory: the browser tests' stack must not
    share PostgreSQL's connections (and the 2 cores) with an idle one."""
    here = Path(__file__).parent
    if _running and (nextitem is None or here not in Path(nextitem.path).parents):
        _running.pop().stop()


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

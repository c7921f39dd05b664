"""Who may register, over real HTTP against `make dev` started with REGISTRATION=invite or domains
(and, under invite, the deployed default, a newcomer's path from the invitation email in Chromium).

Each mode needs a stack of its own (settings are read once per function), so each class starts
`python -m local.runtime dev` as a user would, with the settings in its environment. The domains
stack runs with a low AUTH_IP_LIMIT_PER_MINUTE to show the per-IP limit of the public routes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import expect
from requests.adapters import HTTPAdapter

from tests.browser.watch import DESKTOP, Watched, build_ui, chromium_browser, watch
from tests.e2e.authutil import PASSWORD, bearer, register_verified, unique_email
from tests.e2e.mailbox import messages_to, token_from
from tests.helpers import ROOT, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.own_stack]

IP_LIMIT = 10


class _Client(requests.Session):
    """Requests to one stack, optionally from another loopback source address (another IP)."""

    def __init__(self, base: str, source_ip: str | None = None) -> None:
        super().__init__()
        self.base = base
        if source_ip:
            self.mount("http://", _SourceAddress(source_ip))

    def request(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        kwargs.setdefault("timeout", 60)
        return super().request(method, self.base + url, *args, **kwargs)


class _SourceAddress(HTTPAdapter):
    def __init__(self, ip: str) -> None:
        self.ip = ip
        super().__init__(pool_maxsize=32)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.ip, 0)
        super().init_poolmanager(*args, **kwargs)


class DevStack:
    """`make dev` in a process of its own; `api` talks to it, `mail_dir` holds what it sent."""

    def __init__(self, url: str, mail_dir: Path, admin_email: str, source_ip: str) -> None:
        self.url, self.mail_dir, self.admin_email = url, mail_dir, admin_email
        # Per-IP counters live in the shared database: each stack's tests use an address of
        # their own, so other stacks' traffic from 127.0.0.1 does not count against them.
        self.api = _Client(url, source_ip=source_ip)

    def client_from(self, ip: str) -> _Client:
        """A client whose requests come from `ip` (any 127.x address is this machine)."""
        return _Client(self.url, source_ip=ip)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dev_stack(registration: str, database_url: str, tmp: Path, source_ip: str,
               ip_limit: int = IP_LIMIT) -> Iterator[DevStack]:
    port, admin = _free_port(), f"boss-{uuid.uuid4().hex[:8]}@example.com"
    env = {**os.environ, "PORT": str(port), "DATABASE_URL": database_url,
           "MAIL_DIR": str(tmp / "mail"), "REGISTRATION": registration, "ADMIN_EMAILS": admin,
           "AUTH_IP_LIMIT_PER_MINUTE": str(ip_limit)}
    log = (tmp / "dev.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "local.runtime", "dev"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        assert process.poll() is None, (tmp / "dev.log").read_text()
        try:
            return requests.get(f"{url}/api/auth/health", timeout=5).status_code == 200
        except requests.RequestException:  # not listening yet, or a cold start past 5 s
            return False

    try:
        wait_for(healthy, timeout=120, interval=0.5)
        banner = wait_for(lambda: "Press Ctrl-C" in (tmp / "dev.log").read_text()
                          and (tmp / "dev.log").read_text())
        assert f"REGISTRATION={registration}" in banner and str(tmp / "mail") in banner
        yield DevStack(url, tmp / "mail", admin, source_ip)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def _invite(stack: DevStack, owner: dict[str, Any], email: str, role: str = "editor",
            workspace_name: str = "Team") -> tuple[dict[str, Any], str]:
    """Invite `email` into a new workspace of `owner`: the workspace, and the token from the
    invitation email."""
    headers = bearer(owner["access_token"])
    workspace = stack.api.post("/api/workspaces", headers=headers, json={"name": workspace_name})
    assert workspace.status_code == 201, workspace.text
    invited = stack.api.post(f"/api/workspaces/{workspace.json()['id']}/invitations",
                             headers=headers, json={"email": email, "role": role})
    assert invited.status_code == 201, invited.text
    return workspace.json(), token_from(stack.mail_dir, email, "/invitations/accept")


@pytest.fixture(scope="class")
def invite_stack(database_url: str, tmp_path_factory: pytest.TempPathFactory):
    # A browser (from 127.0.0.1, like every other stack's clients) opens pages of this one: the
    # per-IP limit is shown on the domains stack.
    yield from _dev_stack("invite", database_url, tmp_path_factory.mktemp("invite"),
                          "127.0.0.11", ip_limit=100_000)


@pytest.fixture(scope="class")
def domains_stack(database_url: str, tmp_path_factory: pytest.TempPathFactory):
    yield from _dev_stack("domains:allowed.test,example.org", database_url,
                          tmp_path_factory.mktemp("domains"), "127.0.0.12")


@pytest.fixture
def desktop(stack: DevStack) -> Iterator[Watched]:
    """A fresh Chromium profile at desktop size on this class's stack."""
    build_ui()
    with chromium_browser() as browser:
        context = browser.new_context(viewport=DESKTOP)
        yield watch(context, stack.url)
        context.close()


class TestInviteMode:
    @pytest.fixture
    def stack(self, invite_stack):
        return invite_stack

    def test_registration_without_an_invitation_is_refused(self, stack):
        response = stack.api.post("/api/auth/register",
                                  json={"email": unique_email(), "password": PASSWORD})
        assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"

    def test_a_listed_admin_registers_and_is_admin_only_once_verified(self, stack):
        # The operator's listed email may register: otherwise nobody could start the deployment.
        registered = stack.api.post("/api/auth/register",
                                    json={"email": stack.admin_email.upper(), "password": PASSWORD})
        assert registered.status_code == 201, registered.text
        user = registered.json()["user"]
        assert user["email"] == stack.admin_email and user["role"] == "member"
        assert user["email_verified"] is False
        login = stack.api.post("/api/auth/login",
                               json={"email": stack.admin_email, "password": PASSWORD})
        assert login.json()["user"]["role"] == "member"
        # Unproven, the listed address can bring nobody in (issue 21, item 6).
        unproven = bearer(registered.json()["access_token"])
        team = stack.api.post("/api/workspaces", json={"name": "Team"}, headers=unproven)
        assert team.status_code == 403, team.text
        assert team.json()["error"]["details"] == [{"field": "email", "problem": "not verified"}]
        personal = stack.api.get("/api/workspaces", headers=unproven).json()["items"][0]["id"]
        invited = stack.api.post(f"/api/workspaces/{personal}/invitations", headers=unproven,
                                 json={"email": unique_email(), "role": "editor"})
        assert invited.status_code == 403, invited.text
        variant = stack.api.post("/api/auth/register", json={
            "email": stack.admin_email.capitalize(), "password": PASSWORD})
        assert variant.status_code == 409

        verified = stack.api.post("/api/auth/verify-email", json={
            "token": token_from(stack.mail_dir, stack.admin_email, "/verify-email")})
        assert verified.status_code == 200 and verified.json()["role"] == "admin"
        login = stack.api.post("/api/auth/login",
                               json={"email": stack.admin_email, "password": PASSWORD})
        assert login.json()["user"]["role"] == "admin"

    def test_an_invitation_lets_its_email_register_verified_and_joins(self, stack):
        owner = stack.api.post("/api/auth/login",
                               json={"email": stack.admin_email, "password": PASSWORD})
        assert owner.status_code == 200, "runs after the listed admin registered"
        invitee = unique_email("invitee")
        _, token = _invite(stack, owner.json(), invitee.upper())

        stranger = stack.api.post("/api/auth/register", json={
            "email": unique_email(), "password": PASSWORD, "invitation_token": token})
        assert stranger.status_code == 403
        joined = stack.api.post("/api/auth/register", json={
            "email": invitee, "password": PASSWORD, "invitation_token": token})
        assert joined.status_code == 201, joined.text
        body = joined.json()
        assert body["user"]["email_verified"] is True
        # The invitation proved the address: no verification email is sent.
        assert not any("/verify-email" in m.get_body(("plain",)).get_content()
                       for m in messages_to(stack.mail_dir, invitee))
        workspaces = stack.api.get("/api/workspaces", headers=bearer(body["access_token"]))
        roles = {(w["name"], w["role"]) for w in workspaces.json()["items"]}
        assert ("Team", "editor") in roles
        spent = stack.api.post("/api/auth/register", json={
            "email": unique_email(), "password": PASSWORD, "invitation_token": token})
        assert spent.status_code == 403

    def test_a_newcomer_registers_from_the_invitation_email_in_the_browser(self, stack,
                                                                         desktop):
        """The deployed default's path for someone with no account: the email's link, opened
        signed out, names the invitation; registering with the invited address (fixed) proves
        it, and they land in the workspace."""
        owner = stack.api.post("/api/auth/login",
                               json={"email": stack.admin_email, "password": PASSWORD})
        assert owner.status_code == 200, "runs after the listed admin registered"
        invitee = unique_email("newcomer")
        workspace, _ = _invite(stack, owner.json(), invitee,
                               workspace_name=f"Studio {uuid.uuid4().hex[:4]}")
        text = messages_to(stack.mail_dir, invitee)[-1].get_body(("plain",)).get_content()
        link = urlsplit(next(line.strip() for line in text.splitlines()
                             if "/invitations/accept?" in line))
        page = desktop.page
        desktop.go(f"{link.path}?{link.query}")
        expect(page.get_by_role("heading", name=f"You're invited to {workspace['name']} as editor")
               ).to_be_visible()
        page.get_by_role("link", name="Create an account").click()
        email = page.get_by_label("Email")
        expect(email).to_have_value(invitee)
        expect(email).not_to_be_editable()
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url(f"**/workspaces/{workspace['id']}")
        expect(page.get_by_role("heading", name=workspace["name"])).to_be_visible()
        assert desktop.problems() == []


class TestDomainsMode:
    @pytest.fixture
    def stack(self, domains_stack):
        return domains_stack

    def test_emails_of_the_listed_domains_register_and_others_need_an_invitation(self, stack):
        tag = uuid.uuid4().hex[:8]
        for email in (f"ann-{tag}@allowed.test", f"Bob-{tag}@EXAMPLE.org"):
            response = stack.api.post("/api/auth/register",
                                      json={"email": email, "password": PASSWORD})
            assert response.status_code == 201, (email, response.text)
        for email in (f"eve-{tag}@elsewhere.test", f"eve-{tag}@sub.allowed.test"):
            response = stack.api.post("/api/auth/register",
                                      json={"email": email, "password": PASSWORD})
            assert response.status_code == 403, email

        owner = register_verified(stack.api, stack.mail_dir, f"owner-{tag}@allowed.test")
        guest = f"guest-{tag}@elsewhere.test"
        _, token = _invite(stack, owner, guest, role="viewer")
        joined = stack.api.post("/api/auth/register", json={
            "email": guest, "password": PASSWORD, "invitation_token": token})
        assert joined.status_code == 201, joined.text
        assert joined.json()["user"]["email_verified"] is True

    def test_public_auth_routes_are_limited_per_client_ip(self, stack):
        calls = {
            "/api/auth/login": lambda i: {"email": unique_email("ip"), "password": "x" * 12},
            "/api/auth/register": lambda i: {"email": unique_email("ip"), "password": PASSWORD},
            "/api/auth/password/forgot": lambda i: {"email": unique_email("ip")},
            "/api/auth/password/reset": lambda i: {"token": f"t{i}", "new_password": PASSWORD},
            "/api/auth/verify-email": lambda i: {"token": f"t{i}"},
        }
        flooding, other = stack.client_from("127.0.0.2"), stack.client_from("127.0.0.3")
        for path, body in calls.items():
            with ThreadPoolExecutor(max_workers=IP_LIMIT + 5) as pool:
                answers = list(pool.map(lambda i, p=path, b=body: flooding.post(p, json=b(i)),
                                        range(IP_LIMIT + 5)))
            limited = [a for a in answers if a.status_code == 429]
            assert len(limited) == 5, (path, [a.status_code for a in answers])
            assert all(int(a.headers["Retry-After"]) > 0 for a in limited)
            # Another address is not affected.
            assert other.post(path, json=body(99)).status_code != 429, path

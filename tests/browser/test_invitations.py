"""An invitation as a newcomer meets it: the email's link, opened signed out, says what the
invitation is for and lets them register with the invited address (fixed), which proves it and
joins them; they land in the workspace. (Run with REGISTRATION=invite in the environment, the
stack takes the deployed default; `make dev`'s open registration takes the same path.)"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.mailbox import messages_to, token_from

pytestmark = pytest.mark.e2e

PASSWORD = "Correct-Horse-Battery-9"


def _owner_invites(stack, invitee: str) -> tuple[dict, str]:
    """A workspace of a new owner with `invitee` invited as editor; (workspace, link path)."""
    email = f"owner-{uuid.uuid4().hex[:10]}@example.com"
    owner = requests.post(f"{stack.url}/api/auth/register", timeout=60,
                          json={"email": email, "password": PASSWORD})
    assert owner.status_code == 201, owner.text
    headers = {"Authorization": f"Bearer {owner.json()['access_token']}"}
    name = f"Studio {uuid.uuid4().hex[:4]}"
    workspace = requests.post(f"{stack.url}/api/workspaces", json={"name": name},
                              headers=headers, timeout=60).json()
    invited = requests.post(f"{stack.url}/api/workspaces/{workspace['id']}/invitations",
                            json={"email": invitee, "role": "editor"}, headers=headers,
                            timeout=60)
    assert invited.status_code == 201, invited.text
    token_from(stack.mail_dir, invitee, "/invitations/accept")  # waits for the email
    text = messages_to(stack.mail_dir, invitee)[-1].get_body(("plain",)).get_content()
    link = next(line.strip() for line in text.splitlines() if "/invitations/accept?" in line)
    parts = urlsplit(link)
    return workspace, f"{parts.path}?{parts.query}"


def test_a_newcomer_registers_from_the_invitation_and_lands_in_the_workspace(desktop, stack):
    page = desktop.page
    invitee = f"newcomer-{uuid.uuid4().hex[:10]}@example.com"
    workspace, link = _owner_invites(stack, invitee)
    desktop.go(link)
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

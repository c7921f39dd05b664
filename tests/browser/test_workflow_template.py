"""The first workflow template as a person uses it: it asks for the base of its Airtable
steps before saving, runs, and its execution shows each step's output."""

from __future__ import annotations

import re
import uuid

import pytest
import requests
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PASSWORD = "Correct-Horse-Battery-9"


def test_the_copy_records_template_runs_and_shows_each_steps_output(desktop, stack):
    page = desktop.page
    email = f"template-{uuid.uuid4().hex[:10]}@example.com"
    response = requests.post(f"{stack.url}/api/auth/register", timeout=60,
                             json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    desktop.go("/login")
    page.get_by_label("Email or username").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Dashboard").wait_for()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Workflows").click()
    page.get_by_role("button", name="Copy records between tables").click()
    create = page.get_by_role("button", name="Create workflow")
    expect(create).to_be_disabled()  # not before the base is chosen
    page.get_by_label("Base for the Airtable steps").select_option(label="Demo CRM")
    create.click()
    page.wait_for_url(re.compile(r"/workflows/[^/]+$"))
    page.get_by_role("button", name="Run workflow").click()
    page.wait_for_url(re.compile(r"/workflows/executions/[^/]+$"))
    expect(page.locator(".page-header").get_by_text("succeeded", exact=True)).to_be_visible(
        timeout=120_000)
    steps = page.locator(".timeline-step")
    expect(steps).to_have_count(3)
    for name in ("list", "transform", "create"):
        step = steps.filter(has=page.locator("strong", has_text=re.compile(f"^{name}$")))
        step.get_by_text("Output", exact=True).click()
        output = step.locator("details").filter(has=page.get_by_text("Output", exact=True))
        expect(output.locator("pre")).to_contain_text('"records"')
    assert desktop.problems() == []

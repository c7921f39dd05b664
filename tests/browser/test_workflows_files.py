"""Workflows and files in the browser: a workflow built from a template runs and notifies; a
CSV uploaded with a progress bar is imported, its progress and rejected rows shown; a 20 MB CSV
goes straight to the bucket and an export downloads, under the template's CSP."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.accounts import new_member

pytestmark = pytest.mark.e2e


def test_a_workflow_from_a_template_runs_and_its_notification_arrives(desktop, stack):
    page = desktop.page
    new_member(desktop, stack, "wf")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Workflows").click()
    page.get_by_role("button", name="Notify me").click()
    page.get_by_label("Name", exact=True).fill(f"Greeter {uuid.uuid4().hex[:6]}")
    page.get_by_role("button", name="Create workflow").click()
    page.wait_for_url(re.compile(r"/workflows/[^/]+$"))
    page.get_by_label("Input (JSON)").fill('{"name": "Ada"}')
    page.get_by_role("button", name="Run workflow").click()
    page.wait_for_url(re.compile(r"/workflows/executions/[^/]+$"))
    expect(page.locator(".page-header").get_by_text("succeeded", exact=True)).to_be_visible(
        timeout=90_000)
    expect(page.locator(".timeline-step").filter(has_text="notify")).to_contain_text("succeeded")

    nav.get_by_role("link", name=re.compile("Notifications")).click()
    expect(page.get_by_text("Hello Ada")).to_be_visible(timeout=60_000)
    assert desktop.problems() == []


def test_a_csv_is_uploaded_imported_and_its_rejected_row_named(desktop, stack):
    page = desktop.page
    new_member(desktop, stack, "wf")
    tag = uuid.uuid4().hex[:6]
    csv = (f"Name,Email,Score\nAda {tag},ada-{tag}@example.com,90\n"
           f"Bob {tag},bob-{tag}@example.com,80\nCarl {tag},carl-{tag}@example.com,lots\n")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Files").click()
    page.get_by_label("File (up to 100 MB)").set_input_files(
        {"name": f"people-{tag}.csv", "mimeType": "text/csv", "buffer": csv.encode()})
    page.get_by_role("button", name="Upload", exact=True).click()
    row = page.get_by_role("row").filter(has_text=f"people-{tag}.csv")
    expect(row.get_by_text("ready")).to_be_visible(timeout=60_000)
    row.get_by_role("button", name="Import").click()

    form = page.locator("section").filter(has=page.get_by_role(
        "heading", name=f"Import people-{tag}.csv"))
    form.get_by_label("Base", exact=True).select_option(label="Demo CRM")
    form.get_by_label("Table").select_option("Contacts")
    form.get_by_role("button", name="Start import").click()
    page.wait_for_url(re.compile(r"/files/imports/[^/]+$"))
    result = page.locator("section.card")
    expect(result.get_by_text("succeeded", exact=True)).to_be_visible(timeout=120_000)
    expect(result).to_contain_text("2 created")
    rejected = result.get_by_role("table", name="Rejected rows")
    expect(rejected.get_by_role("row").filter(has_text=re.compile(r"^\s*3"))).to_have_count(1)
    assert desktop.problems() == []


def _big_csv(tag: str, size: int) -> bytes:
    line = f"Person {tag} {{:07d}},person-{{:07d}}@example.com,{{}}\n"
    rows = [b"Name,Email,Score\n"]
    total, n = len(rows[0]), 0
    while total < size:
        rows.append(line.format(n, n, n % 100).encode())
        total += len(rows[-1])
        n += 1
    return b"".join(rows)


def test_a_20_mb_csv_goes_to_the_bucket_with_progress_and_an_export_downloads(desktop, stack):
    page = desktop.page
    csp_messages: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text and csp_messages.append(
        m.text))
    new_member(desktop, stack, "wf")
    tag = uuid.uuid4().hex[:6]
    data = _big_csv(tag, 20 * 1024 * 1024)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Files").click()
    # Uploads to a local socket end in moments; at 8 MB/s the bar is there for a person to see.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1,
        "uploadThroughput": 8 * 1024 * 1024})
    page.evaluate("""() => {
        window.seenProgress = [];
        new MutationObserver(() => {
            const bar = document.querySelector('progress[aria-label="Upload progress"]');
            if (bar) window.seenProgress.push(bar.value);
        }).observe(document.body, {subtree: true, childList: true, attributes: true});
    }""")
    page.get_by_label("File (up to 100 MB)").set_input_files(
        {"name": f"big-{tag}.csv", "mimeType": "text/csv", "buffer": data})
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_label("Upload progress")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=f"big-{tag}.csv")
    expect(row.get_by_text("ready")).to_be_visible(timeout=120_000)
    expect(row).to_contain_text("20.0 MB")
    seen = page.evaluate("window.seenProgress")
    assert any(0 < value < 1 for value in seen), seen
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})

    export = page.locator("section").filter(has=page.get_by_role(
        "heading", name="Export a table"))
    export.get_by_label("Base", exact=True).select_option(label="Demo CRM")
    export.get_by_label("Table").select_option("Contacts")
    export.get_by_role("button", name="Export").click()
    expect(export.get_by_text("succeeded", exact=True)).to_be_visible(timeout=120_000)
    exported = page.get_by_role("row").filter(has_text=re.compile(r"Contacts-\d{8}-\d{6}\.csv"))
    with page.expect_download() as info:
        exported.first.get_by_role("button", name="Download").click()
    download = info.value
    assert re.fullmatch(r"Contacts-\d{8}-\d{6}\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8") as content:
        assert content.readline().strip() != ""
    assert csp_messages == []
    assert desktop.problems() == []

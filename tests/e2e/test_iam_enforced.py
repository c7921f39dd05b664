"""IAM is enforced locally from the template: a stack started on a copy of template.yaml with one
permission less refuses the call that needs it, as AWS would, and says which permission."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from local.runtime.stack import LocalStack, Options
from tests.helpers import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.own_stack]

# The workflows service's health check describes the event bus (events:DescribeEventBus).
PERMISSION = ("        - Statement: [{Sid: HealthDescribesEventBus, Effect: Allow, "
              "Action: events:DescribeEventBus, Resource: !GetAtt EventBus.Arn}]\n")


def _template_without(permission: str, folder: Path) -> Path:
    """template.yaml less one permission, beside links to the code it names."""
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    assert text.count(permission) == 1, "the permission this test removes has moved"
    for code in ("functions", "layers", "statemachines"):
        (folder / code).symlink_to(ROOT / code)
    copy = folder / "template.yaml"
    copy.write_text(text.replace(permission, ""), encoding="utf-8")
    return copy


@pytest.fixture(scope="module")
def narrowed(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    folder = tmp_path_factory.mktemp("narrowed")
    stack = LocalStack(Options(port=0, database_url=database_url, quiet=True,
                               worker_log=folder / "workers.log",
                               template=_template_without(PERMISSION, folder))).start()
    try:
        yield stack
    finally:
        stack.stop()


def test_a_call_the_role_no_longer_allows_is_access_denied_over_http(narrowed):
    response = requests.get(f"{narrowed.url}/api/workflows/health", timeout=60)
    assert response.status_code == 503
    check = response.json()["checks"]["event_bus"]
    assert (check["status"], check["error"]) == ("error", "AccessDeniedException")
    log = narrowed.options.worker_log.read_text()
    assert "IAM denied: User: arn:aws:sts::123456789012:assumed-role/pyairtable-" \
           "WorkflowsFunctionRole-" in log
    assert "is not authorized to perform: events:DescribeEventBus on resource: " \
           "arn:aws:events:us-east-1:123456789012:event-bus/pyairtable-events" in log


def test_the_same_call_with_the_permission_is_allowed(narrowed):
    # The notifications role keeps its own events:DescribeEventBus: only the removed one fails.
    response = requests.get(f"{narrowed.url}/api/notifications/health", timeout=60)
    assert response.json()["checks"]["event_bus"]["status"] == "ok"

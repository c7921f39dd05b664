"""Workflow definitions, templates and the runner's agreement with its state machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from common.workflows.definitions import WorkflowIn
from common.workflows.steps import evaluate
from common.workflows.templates import parse_path, render

ROOT = Path(__file__).resolve().parents[2]
LIST = {"id": "people", "type": "airtable.list_records",
        "config": {"base_id": "appAAAAAAAAAAAAAA", "table": "People"}}


def _definition(steps, trigger=None):
    return {"name": "w", "trigger": trigger or {"type": "manual"}, "steps": steps}


def test_a_template_that_is_the_whole_value_keeps_its_type():
    context = {"steps": {"people": {"records": [{"id": "rec1"}]}}, "input": {"n": 3}}
    assert render("{{ steps.people.records }}", context) == [{"id": "rec1"}]
    assert render({"n": "{{input.n}}", "text": "n={{ input.n }}"}, context) == {
        "n": 3, "text": "n=3"}


def test_two_templates_in_one_string_are_rendered_separately():
    item = {"item": {"fields": {"Name": "Ada", "Age": 36}}}
    assert render("{{ item.fields.Name }} is {{ item.fields.Age }}", item) == "Ada is 36"


def test_missing_values_render_empty_because_airtable_omits_empty_cells():
    assert render("<{{ item.fields.Email }}>", {"item": {"fields": {}}}) == "<>"
    assert render("{{ item.fields.Email }}", {"item": {"fields": {}}}) is None


def test_paths_take_field_names_with_spaces_and_indexes():
    assert parse_path("steps.a.records[2].fields.Full Name") == [
        "steps", "a", "records", 2, "fields", "Full Name"]


def test_a_reference_to_an_earlier_step_is_accepted():
    WorkflowIn.model_validate(_definition([LIST, {
        "id": "labels", "type": "transform",
        "config": {"items": "{{ steps.people.records }}", "fields": {"L": "{{ item.id }}"}}}]))


@pytest.mark.parametrize(("steps", "trigger", "problem"), [
    ([{"id": "x", "type": "airtable.teleport", "config": {}}], None, "does not match"),
    ([LIST], {"type": "schedule", "schedule": "cron(0 9 * * * *)"}, "exactly one"),
    ([LIST], {"type": "schedule", "schedule": "rate(1 minutes)"}, "invalid rate"),
    ([LIST], {"type": "schedule"}, "needs `schedule`"),
    ([{"id": "t", "type": "transform", "config": {"items": "{{ steps.later.records }}",
                                                  "fields": {"a": "b"}}}, LIST],
     None, "not an earlier step"),
    ([LIST, {"id": "c", "type": "condition", "config": {"left": "{{ item.x }}", "op": "eq"}}],
     None, "only in a transform"),
    ([LIST, LIST], None, "duplicate step id"),
    ([{"id": "d", "type": "delay", "config": {"seconds": 0}}], None, "greater than or equal"),
    ([{"id": "h", "type": "http_request", "config": {"url": "ftp://x"}}], None, "http"),
    ([{**LIST, "config": {**LIST["config"], "tabel": "typo"}}], None, "Extra inputs"),
    ([LIST], {"type": "airtable_change", "base_id": "appAAAAAAAAAAAAAA"}, "needs `base_id`"),
])
def test_bad_definitions_are_refused(steps, trigger, problem):
    with pytest.raises(ValidationError, match=problem):
        WorkflowIn.model_validate(_definition(steps, trigger))


@pytest.mark.parametrize(("op", "left", "right", "expected"), [
    ("eq", "10", 10, True), ("gt", "9", 10, False), ("lt", 2.5, "3", True),
    ("contains", "hello world", "world", True), ("contains", ["a", "b"], "c", False),
    ("empty", [], None, True), ("empty", "x", None, False), ("ne", "a", "b", True),
])
def test_conditions_compare_numbers_given_as_text_as_numbers(op, left, right, expected):
    assert evaluate(op, left, right) is expected


def test_the_runner_and_the_state_machine_agree_on_transient_retries():
    from common.core.tasks import Transient
    from common.workflows.runner import TRANSIENT_RETRIES

    asl = json.loads((ROOT / "statemachines" / "workflow.asl.json").read_text())
    (retrier,) = [r for r in asl["States"]["RunStep"]["Retry"]
                  if r["ErrorEquals"] == [Transient.__name__]]
    assert retrier["MaxAttempts"] == TRANSIENT_RETRIES


def test_the_runner_and_the_state_machine_agree_on_throttled_retries():
    from common.core.tasks import Throttled
    from common.workflows.runner import THROTTLED_RETRIES

    asl = json.loads((ROOT / "statemachines" / "workflow.asl.json").read_text())
    (retrier,) = [r for r in asl["States"]["RunStep"]["Retry"]
                  if r["ErrorEquals"] == [Throttled.__name__]]
    assert retrier["MaxAttempts"] == THROTTLED_RETRIES
    waits = [retrier["IntervalSeconds"] * retrier["BackoffRate"] ** n
             for n in range(THROTTLED_RETRIES)]
    assert sum(waits) > 30  # outlasts Airtable's lock-out after a 429

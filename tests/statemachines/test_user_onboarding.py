"""user_onboarding (an Express machine) in moto's interpreter, started by `user.registered`."""

from __future__ import annotations

import pytest

from common.sagas.errors import AirtableUnavailable, CompensationFailed, StepFailed
from tests.helpers import load_event
from tests.statemachines.conftest import _Context


def _registered(sagas, user_id: str) -> str:
    event = load_event("saga_tasks/user-registered.json")
    event["detail"]["user_id"] = user_id
    return sagas.handler(event, _Context())["saga_id"]


def _preferences(user_id: str) -> dict:
    from common.db import UnitOfWork
    from common.models import User

    with UnitOfWork() as uow:
        return dict(uow.session.get(User, user_id).preferences)


def _sample_tables(sagas) -> dict[str, int]:
    from tests.statemachines.conftest import _api

    api = _api(sagas.emulator)
    tables = api.base(sagas.sample_base_id).schema(force=True).tables
    return {t.name: len(api.table(sagas.sample_base_id, t.id).all()) for t in tables
            if t.name.startswith("Getting started")}


def test_registration_sets_preferences_makes_a_sample_table_and_welcomes(sagas):
    user_id = sagas.new_member()
    saga = sagas.wait(_registered(sagas, user_id))
    assert saga["status"] == "succeeded"
    assert [s["status"] for s in saga["steps"]] == ["succeeded"] * 3
    prefs = _preferences(user_id)
    assert prefs["theme"] == "dark"  # what the user had stays
    assert prefs["timezone"] == "UTC" and prefs["locale"] == "en"
    table = saga["output"]["sample_table"]["table"]
    assert _sample_tables(sagas)[table] == 3
    assert sagas.calls == ["onboarding.step:0", "onboarding.step:1", "onboarding.step:2"]


def test_the_event_delivered_twice_starts_one_saga(sagas):
    user_id = sagas.new_member()
    first = _registered(sagas, user_id)
    assert _registered(sagas, user_id) == first
    assert sagas.wait(first)["status"] == "succeeded"
    assert sagas.calls.count("onboarding.step:0") == 1


@pytest.mark.parametrize(("step", "undone"), [(0, []), (1, ["preferences"]),
                                              (2, ["preferences", "sample_table"])])
def test_a_failing_step_undoes_the_steps_before_it(sagas, step, undone):
    user_id = sagas.new_member()
    tables_before = _sample_tables(sagas)
    sagas.faults[f"onboarding.step:{step}"] = [StepFailed("boom")]
    saga = sagas.wait(_registered(sagas, user_id))
    assert saga["status"] == "compensated"
    assert "boom" in saga["error"]["message"]
    assert _preferences(user_id) == {"theme": "dark"}
    compensated = [s["name"] for s in saga["steps"]
                   if s["compensation"]["status"] == "compensated"]
    assert compensated == undone
    after = _sample_tables(sagas)
    made = {name: n for name, n in after.items() if name not in tables_before}
    # Airtable's API cannot delete a table: a made one is emptied and renamed.
    assert all(name.endswith("(removed)") and n == 0 for name, n in made.items())


def test_a_transient_failure_is_retried_and_onboarding_succeeds(sagas):
    user_id = sagas.new_member()
    sagas.faults["onboarding.step:1"] = [AirtableUnavailable("503")]
    saga = sagas.wait(_registered(sagas, user_id), timeout=60)
    assert saga["status"] == "succeeded"
    assert sagas.calls.count("onboarding.step:1") == 2


def test_compensation_failing_twice_then_succeeding_ends_compensated(sagas):
    user_id = sagas.new_member()
    sagas.faults["onboarding.step:2"] = [StepFailed("boom")]
    sagas.faults["onboarding.compensate"] = [CompensationFailed("down"),
                                             CompensationFailed("down")]
    saga = sagas.wait(_registered(sagas, user_id), timeout=60)
    assert saga["status"] == "compensated"
    assert sagas.calls.count("onboarding.compensate") == 3
    assert _preferences(user_id) == {"theme": "dark"}

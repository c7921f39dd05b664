"""user_onboarding (an Express machine) in moto's interpreter, started by `user.registered`."""

from __future__ import annotations

import pytest

from common.core.tasks import Rejected, Transient
from common.sagas.errors import CompensationFailed
from tests.helpers import load_event
from tests.statemachines.conftest import _Context


def _registered(sagas, user_id: str) -> str:
    event = load_event("saga_tasks/user-registered.json")
    event["detail"]["user_id"] = user_id
    return sagas.handler(event, _Context())["saga_id"]


def _preferences(user_id: str) -> dict:
    from common.core.db import UnitOfWork
    from common.core.models import User

    with UnitOfWork() as uow:
        return dict(uow.session.get(User, user_id).preferences)


def _tables(sagas) -> list[str]:
    from tests.statemachines.conftest import _api

    return [t.name for t in _api(sagas.emulator).base(sagas.sample_base_id).schema(
        force=True).tables]


def test_registration_sets_preferences_finds_the_demo_base_and_welcomes(sagas):
    tables_before = _tables(sagas)
    user_id = sagas.new_member()
    saga = sagas.wait(_registered(sagas, user_id))
    assert saga["status"] == "succeeded"
    assert [s["status"] for s in saga["steps"]] == ["succeeded"] * 3
    prefs = _preferences(user_id)
    assert prefs["theme"] == "dark"  # what the user had stays
    assert prefs["timezone"] == "UTC" and prefs["locale"] == "en"
    assert saga["output"] == {"demo_base_id": sagas.sample_base_id}
    assert _tables(sagas) == tables_before  # nothing written into the shared base
    assert sagas.calls == ["onboarding.step:0", "onboarding.step:1", "onboarding.step:2"]


def test_the_event_delivered_twice_starts_one_saga(sagas):
    user_id = sagas.new_member()
    first = _registered(sagas, user_id)
    assert _registered(sagas, user_id) == first
    assert sagas.wait(first)["status"] == "succeeded"
    assert sagas.calls.count("onboarding.step:0") == 1


@pytest.mark.parametrize(("step", "undone"), [(0, []), (1, ["preferences"]),
                                              (2, ["preferences", "demo_base"])])
def test_a_failing_step_undoes_the_steps_before_it(sagas, step, undone):
    user_id = sagas.new_member()
    sagas.faults[f"onboarding.step:{step}"] = [Rejected("boom")]
    saga = sagas.wait(_registered(sagas, user_id))
    assert saga["status"] == "compensated"
    assert "boom" in saga["error"]["message"]
    assert _preferences(user_id) == {"theme": "dark"}
    compensated = [s["name"] for s in saga["steps"]
                   if s["compensation"]["status"] == "compensated"]
    assert compensated == undone


def test_a_transient_failure_is_retried_and_onboarding_succeeds(sagas):
    user_id = sagas.new_member()
    sagas.faults["onboarding.step:1"] = [Transient("503")]
    saga = sagas.wait(_registered(sagas, user_id), timeout=60)
    assert saga["status"] == "succeeded"
    assert sagas.calls.count("onboarding.step:1") == 2


def test_compensation_failing_twice_then_succeeding_ends_compensated(sagas):
    user_id = sagas.new_member()
    sagas.faults["onboarding.step:2"] = [Rejected("boom")]
    sagas.faults["onboarding.compensate"] = [CompensationFailed("down"),
                                             CompensationFailed("down")]
    saga = sagas.wait(_registered(sagas, user_id), timeout=60)
    assert saga["status"] == "compensated"
    assert sagas.calls.count("onboarding.compensate") == 3
    assert _preferences(user_id) == {"theme": "dark"}

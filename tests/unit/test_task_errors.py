"""The task-error vocabulary every state machine names, and the one reader of its failures."""

import json
from pathlib import Path

import pytest

from common.airtable.errors import TokenRejected, Unanswered
from common.core.errors import NotFound, RateLimited, UpstreamError, ValidationFailed
from common.core.tasks import Rejected, Throttled, Transient, classified, classify, failure_text
from common.sagas.errors import CompensationFailed, compensation_error

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("error", "kind"), [
    (RateLimited("slow down", retry_after=30), Throttled),
    (Unanswered("Airtable could not be reached."), Transient),
    (UpstreamError("Airtable failed with status 502."), Transient),
    (TokenRejected("Airtable rejected the connection's token."), Rejected),
    (NotFound("Airtable: not found"), Rejected),
    (ValidationFailed("Airtable rejected the request: UNKNOWN_FIELD_NAME"), Rejected),
])
def test_a_domain_error_is_classified_with_its_message(error, kind):
    named = classify(error)
    assert type(named) is kind and str(named) == error.message


def test_while_compensating_a_refusal_is_retried_and_the_rest_stay_as_they_are():
    assert type(compensation_error(NotFound("gone"))) is CompensationFailed
    assert type(compensation_error(Unanswered("lost"))) is Transient
    assert type(compensation_error(RateLimited("slow", retry_after=1))) is Throttled


def test_classified_turns_a_domain_error_into_a_task_error_and_lets_others_through():
    with pytest.raises(Transient, match="reached"), classified():
        raise Unanswered("Airtable could not be reached.")
    with pytest.raises(KeyError), classified():
        raise KeyError("bug")


def _lambda_failure(error: str, message: str) -> dict:
    return {"Error": error, "Cause": json.dumps({"errorType": error, "errorMessage": message})}


def test_failure_text_gives_our_errors_message_alone():
    assert failure_text(_lambda_failure("Rejected", "no field \"Shoe\"")) == 'no field "Shoe"'
    assert failure_text(_lambda_failure("CompensationFailed", "still down")) == "still down"


def test_failure_text_names_any_other_error():
    timeout = _lambda_failure("Sandbox.Timedout", "Task timed out after 60.00 seconds")
    assert failure_text(timeout) == "Sandbox.Timedout: Task timed out after 60.00 seconds"
    # A Cause that is not a Lambda error's JSON (StopExecution's, the runtime's) is kept whole.
    assert failure_text({"Error": "SagaCancelled", "Cause": "Cancelled by user u1."}) == \
        "Cancelled by user u1."
    assert failure_text({"Error": "States.Timeout"}) == "States.Timeout"
    assert failure_text(None) is None and failure_text({}) is None


def test_every_machine_retries_only_names_of_the_vocabulary_or_of_the_runtime():
    """A retrier naming a class nobody raises would silently never match."""
    from common.core.tasks import TaskError, _names
    from common.sagas import errors  # noqa: F401  (the saga machines' own names)

    ours = _names(TaskError)
    runtime = ("Lambda.", "Sandbox.", "Runtime.", "States.")
    retried: set[str] = set()

    def walk(states: dict) -> None:
        for state in states.values():
            for rule in [*state.get("Retry", []), *state.get("Catch", [])]:
                retried.update(rule["ErrorEquals"])
            for branch in state.get("Branches", []):
                walk(branch["States"])
            for key in ("Iterator", "ItemProcessor"):
                if key in state:
                    walk(state[key]["States"])

    for name in ("airtable_transaction", "airtable_integration", "user_onboarding", "workflow",
                 "file_import", "file_export"):
        walk(json.loads((ROOT / "statemachines" / f"{name}.asl.json").read_text())["States"])
    assert {n for n in retried if not n.startswith(runtime)} <= ours
    assert {"Transient", "Throttled"} <= retried

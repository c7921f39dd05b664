"""State machine roles: a Task state invokes its Lambda with the machine's role, so the machine's
role must allow lambda:InvokeFunction on it (moto's interpreter runs in the runtime's process)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from local.runtime.iam.hook import Role


def install_task_role_check(roles: dict[str, Role]) -> Callable[[], None]:
    """Check each Lambda task of moto's interpreter against its machine's role (by machine ARN);
    returns a function that undoes the patch."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    original = lambda_eval_utils.execute_lambda_function_integration

    def checked(env: Any, parameters: dict[str, Any], region: str, state_credentials: Any) -> None:
        machine = env.states.context_object.context_object_data["StateMachine"]["Id"]
        role = roles.get(machine)
        message = role.refusal("lambda", "Invoke", parameters) if role else None
        if message is not None:
            # Lambda's answer to the machine's role: the task fails, Lambda.AccessDeniedException.
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": message},
                               "ResponseMetadata": {"HTTPStatusCode": 403,
                                                    "RequestId": str(uuid.uuid4())}}, "Invoke")
        original(env, parameters, region, state_credentials)

    lambda_eval_utils.execute_lambda_function_integration = checked

    def undo() -> None:
        lambda_eval_utils.execute_lambda_function_integration = original

    return undo

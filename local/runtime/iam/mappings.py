"""An SQS event source mapping polls with its function's role: Lambda refuses to create one whose
role cannot receive, delete and read the attributes of the queue (the deploy fails)."""

from __future__ import annotations

from local.runtime.iam.hook import Role

_NEEDED = ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes")


def mapping_refusal(role: Role, queue_url: str) -> str | None:
    """None when the role may poll the queue, else why CreateEventSourceMapping fails."""
    for operation in _NEEDED:
        if role.refusal("sqs", operation, {"QueueUrl": queue_url}) is not None:
            return (f"The provided execution role {role.name} of {role.function_logical_id} does "
                    f"not have permissions to call {operation} on SQS ({queue_url}); add it to "
                    f"{role.function_logical_id}'s Policies")
    return None

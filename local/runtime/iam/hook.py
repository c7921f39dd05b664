"""The botocore hook a worker installs: every AWS call its function makes is checked against
the function's role (then the service's payload limits), and refused as the service would."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from local.runtime.iam.calls import ALWAYS_ALLOWED, requests_for
from local.runtime.iam.policy import Policy, Request
from local.runtime.limits import call_refusal

# How each service answers an unauthorized call (error code, HTTP status); others answer
# AccessDeniedException with 400.
_REFUSALS = {"s3": ("AccessDenied", 403), "sqs": ("AccessDenied", 403),
             "ses": ("AccessDenied", 403), "sns": ("AuthorizationError", 403),
             "lambda": ("AccessDeniedException", 403)}
_DENIAL_KEY = "local_iam_denial"


@dataclass(frozen=True)
class Role:
    """A function's execution role: what the template calls it and what it allows."""

    name: str  # physical name, as in the assumed-role ARN
    logical_id: str
    function_name: str
    function_logical_id: str
    policy: Policy
    region: str
    account: str
    # A permissions boundary caps what the policies grant: both must allow a call.
    boundary: Policy | None = None

    def refusal(self, prefix: str, operation: str, params: dict[str, Any]) -> str | None:
        """None when the role allows the call, else the message AWS would give (and ours)."""
        for request in requests_for(prefix, operation, params, self.region, self.account):
            if request.action in ALWAYS_ALLOWED:
                continue
            decision = self.policy.decide(request)
            if not decision.allowed:
                return self._message(request, self._why(request, decision.statement,
                                                        "an identity-based policy"))
            capped = self.boundary.decide(request) if self.boundary else decision
            if not capped.allowed:
                return self._message(request, self._why(request, capped.statement,
                                                         "a permissions boundary"))
        return None

    @staticmethod
    def _why(request: Request, deny_statement: str | None, kind: str) -> str:
        if deny_statement:
            return f"with an explicit deny in {kind} ({deny_statement})"
        return f"because no {kind.removeprefix('an ').removeprefix('a ')} allows the " \
               f"{request.action} action"

    def _message(self, request: Request, why: str) -> str:
        context = "".join(f", {k}={v}" for k, v in request.context.items())
        return (f"User: arn:aws:sts::{self.account}:assumed-role/{self.name}/"
                f"{self.function_name} is not authorized to perform: {request.action} on "
                f"resource: {request.resource} {why} [local IAM: role {self.logical_id} of "
                f"{self.function_logical_id} in the template{context}; add the permission "
                f"to {self.function_logical_id}'s Policies and to iam-allowlist.yaml]")


class _Response:
    """The little of an HTTP response botocore reads from a handler's short-circuit answer."""

    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}
        self.content = b""
        self.text = ""


def install(role: Role) -> None:
    """Check every call of every botocore session created from now on in this process."""
    import botocore.session

    original = botocore.session.Session.__init__

    def __init__(session: Any, *args: Any, **kwargs: Any) -> None:
        original(session, *args, **kwargs)
        register(session, role)

    botocore.session.Session.__init__ = __init__  # type: ignore[method-assign]


_IAM_PREFIXES = {"monitoring": "cloudwatch"}


def register(session: Any, role: Role) -> None:
    """Add the check to one botocore session (clients made from it inherit it)."""

    def check(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        prefix = model.service_model.signing_name
        # IAM names a few services otherwise than their signing name (CloudWatch: monitoring).
        prefix = _IAM_PREFIXES.get(prefix, prefix)
        message = role.refusal(prefix, model.name, params)
        if message is not None:
            code, status = _REFUSALS.get(prefix, ("AccessDeniedException", 400))
            context[_DENIAL_KEY] = (code, status, message)
            # Also in the function's log, where a developer looks when a call fails.
            sys.stderr.write(f"IAM denied: {message}\n")  # one write: one line in the log
            return
        # Authorized, the call must still keep within the service's payload limits.
        context[_DENIAL_KEY] = call_refusal(prefix, model.name, params)

    def refuse(model: Any, context: dict[str, Any], **_: Any) -> Any:
        denial = context.get(_DENIAL_KEY)
        if denial is None:
            return None
        code, status, message = denial
        return _Response(status), {
            "Error": {"Code": code, "Message": message, "Type": "Sender"},
            "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}}}

    session.register("before-parameter-build", check, unique_id="local-iam-check")
    session.register("before-call", refuse, unique_id="local-iam-refuse")

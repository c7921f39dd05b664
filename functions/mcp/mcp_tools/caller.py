"""The invocation's caller, as the authorizer named it, for the tools to act as."""

from contextvars import ContextVar

from common.core.identity import Identity

_caller: ContextVar[Identity] = ContextVar("mcp_caller")


def set_caller(identity: Identity) -> None:
    """Act as `identity` for the rest of this invocation."""
    _caller.set(identity)


def caller() -> Identity:
    """Who the running tool acts for."""
    return _caller.get()

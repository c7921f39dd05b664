"""Who calls the auth routes, injected by Powertools `Depends`: where a request came from (the
public routes know nothing more), and the signed-in caller with it (auth's audit keeps the IP)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Request

from common.auth.sessions import Client, SignedIn
from common.core.dependencies import caller


def client(request: Request) -> Client:
    """The request's source address and user agent."""
    event = request.resolved_event
    return Client(ip=event.request_context.http.source_ip,  # type: ignore[attr-defined]
                  user_agent=event.headers.get("user-agent"))


def signed_in(request: Request) -> SignedIn:
    """The authorizer's caller (refused without one), with where the request came from."""
    return SignedIn(**asdict(caller(request)), client=client(request))


Anyone = Annotated[Client, Depends(client)]
SignedInCaller = Annotated[SignedIn, Depends(signed_in)]

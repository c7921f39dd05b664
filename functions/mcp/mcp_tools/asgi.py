"""One HTTP API event through an ASGI app, as one request with its own lifespan: no state
outlives the invocation, so any instance answers any request."""

from __future__ import annotations

import base64
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.types import Message


def scope(event: dict[str, Any]) -> dict[str, Any]:
    """The ASGI HTTP scope of an HTTP API (payload 2.0) event."""
    http = event["requestContext"]["http"]
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1"))
               for k, v in (event.get("headers") or {}).items()]
    if event.get("cookies"):
        headers.append((b"cookie", "; ".join(event["cookies"]).encode("latin-1")))
    host = (event.get("headers") or {}).get("host", "")
    return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1", "method": http["method"].upper(), "scheme": "https",
            "path": event.get("rawPath") or http.get("path", "/"), "root_path": "",
            "raw_path": (event.get("rawPath") or "/").encode(),
            "query_string": (event.get("rawQueryString") or "").encode(),
            "headers": headers, "server": (host, 443),
            "client": (http.get("sourceIp", ""), 0)}


def body(event: dict[str, Any]) -> bytes:
    """The request body's bytes."""
    raw = event.get("body") or ""
    return base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()


def respond(app: Starlette, event: dict[str, Any]) -> dict[str, Any]:
    """Serve the event with `app` (lifespan started and stopped around it); the HTTP API's
    response."""
    return anyio.run(_serve, app, scope(event), body(event))


async def _serve(app: Starlette, request: dict[str, Any], content: bytes) -> dict[str, Any]:
    status, headers, chunks = 500, {}, []
    done = anyio.Event()
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": content, "more_body": False}
        await done.wait()  # the client "disconnects" once the response is complete
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            for key, value in message.get("headers", []):
                name = key.decode("latin-1").lower()
                if name == "content-length":  # the gateway sets its own
                    continue
                headers[name] = (f"{headers[name]},{value.decode('latin-1')}"
                                 if name in headers else value.decode("latin-1"))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    async with app.router.lifespan_context(app):
        await app(request, receive, send)
    done.set()
    payload = b"".join(chunks)
    try:
        return {"statusCode": status, "headers": headers, "body": payload.decode(),
                "isBase64Encoded": False}
    except UnicodeDecodeError:
        return {"statusCode": status, "headers": headers,
                "body": base64.b64encode(payload).decode(), "isBase64Encoded": True}

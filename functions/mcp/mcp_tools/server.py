"""The MCP server (tools registered by `reads` and `writes`) and its per-request HTTP app."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import ToolAnnotations
from starlette.applications import Starlette

from common.core.settings import get_settings

PATH = "/api/mcp"
INSTRUCTIONS = (
    "Airtable bases of your PyAirtable workspaces, with your own role in each. Every write runs "
    "as a transaction (all or nothing) and returns its transaction_id; undo_transaction reverts "
    "it. Use dry_run to check writes first, and `fields` to keep large tables small.")

server: MCPServer = MCPServer("pyairtable", title="PyAirtable",
                              version=get_settings().version, instructions=INSTRUCTIONS,
                              log_level="WARNING")

READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                       open_world_hint=False)


def write(*, destructive: bool, idempotent: bool) -> ToolAnnotations:
    """Annotations of a tool that changes data."""
    return ToolAnnotations(read_only_hint=False, destructive_hint=destructive,
                           idempotent_hint=idempotent, open_world_hint=False)


def http_app(event: dict[str, Any]) -> Starlette:
    """A fresh stateless streamable-HTTP app (JSON responses) for this one request."""
    return server.streamable_http_app(
        streamable_http_path=PATH, json_response=True, stateless_http=True,
        transport_security=TransportSecuritySettings(
            enable_dns_rebinding_protection=True, allowed_hosts=allowed_hosts(event),
            allowed_origins=[_origin(get_settings().web_url)]))


def allowed_hosts(event: dict[str, Any]) -> list[str]:
    """The API's own domain as API Gateway received the request (CloudFront forwards to it
    under that name) and the web UI's host."""
    hosts = [urlsplit(get_settings().web_url).netloc]
    domain = event.get("requestContext", {}).get("domainName")
    if domain:
        hosts.append(domain)
    return hosts


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"

"""The MCP tools of API.md: thin adapters over the same service functions as the HTTP routes."""

"""The list of HTTP services has one source, template.yaml, and it agrees with the routes."""

from __future__ import annotations

import re

from common.core.settings import name_pairs
from local.services import http_services, resources


def _health_routes() -> dict[str, str]:
    """Service name -> logical id of the function that serves GET /api/<name>/health."""
    found = {}
    for logical_id, resource in resources().items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            route = event.get("Properties", {})
            served = re.fullmatch(r"/api/(\w+)/health", str(route.get("Path", "")))
            if event["Type"] == "HttpApi" and route.get("Method") == "GET" and served:
                found[served.group(1)] = logical_id
    return found


def test_the_services_are_exactly_the_functions_serving_a_health_route():
    routes = _health_routes()
    assert sorted(http_services()) == sorted(routes)
    for name, logical_id in routes.items():
        assert resources()[logical_id]["Properties"]["CodeUri"] == f"functions/{name}/"


def test_the_aggregate_health_asks_each_service_through_its_own_function():
    variables = resources()["PlatformFunction"]["Properties"]["Environment"]["Variables"]
    pairs = name_pairs(variables["SERVICE_FUNCTIONS"]["Fn::Sub"])
    routes = _health_routes()
    assert pairs == {name: f"${{{routes[name]}}}" for name in http_services()
                     if name != "platform"}

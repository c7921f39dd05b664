"""The services behind the HTTP API, as template.yaml names them: the one list the OpenAPI
generator, the tests and (through the platform function's SERVICE_FUNCTIONS) the deployed
aggregate health all read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"


def resources(template: Path = TEMPLATE) -> dict[str, Any]:
    """The template's resources, its short-form tags (!Ref, !Sub) read as their long forms."""
    from samcli.yamlhelper import yaml_parse

    return yaml_parse(template.read_text(encoding="utf-8"))["Resources"]


def http_services(template: Path = TEMPLATE) -> tuple[str, ...]:
    """The services the aggregate health asks (the platform function's SERVICE_FUNCTIONS, in
    its order), then the platform itself."""
    from common.core.settings import name_pairs

    variables = resources(template)["PlatformFunction"]["Properties"]["Environment"]["Variables"]
    return (*name_pairs(variables["SERVICE_FUNCTIONS"]["Fn::Sub"]), "platform")

"""Generate the merged OpenAPI document of every HTTP function into the common layer.

The platform function serves this file: in AWS each function is its own Lambda, so no single
function can import the others' routes at run time. `make openapi` regenerates it and a test
fails when it is stale.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from local.services import http_services

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = ROOT / "layers" / "common" / "common" / "platform" / "openapi.json"
# One credential header for both kinds, as the HTTP API's authorizer reads it.
SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer",
                   "description": "An access token (JWT) or an API key (pyat_...)."},
}


def generate() -> str:
    """The merged document as JSON text (stable key order)."""
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge

    from common import __version__

    merge = OpenAPIMerge(title="PyAirtable Serverless API", version=__version__,
                         description="Accounts, sagas, workflows, files and notifications "
                                     "on top of Airtable.",
                         security=[{"bearerAuth": []}], on_conflict="error")
    for name in http_services():
        merge.add_file(ROOT / "functions" / name / "app.py", resolver_name="app")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a function that fails to load must fail generation
        schema = json.loads(merge.get_openapi_json_schema())
    components = schema.setdefault("components", {})
    components["securitySchemes"] = SECURITY_SCHEMES
    _use_error_envelope(schema)
    _mark_public_routes(schema)
    return json.dumps(schema, indent=1, sort_keys=True) + "\n"


ERROR_ENVELOPE = {
    "type": "object", "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["code", "message", "request_id"],
        "properties": {
            "code": {"type": "string", "examples": ["validation_error", "not_found"]},
            "message": {"type": "string"},
            "details": {"type": "array", "items": {
                "type": "object", "properties": {"field": {"type": "string"},
                                                 "problem": {"type": "string"}}}},
            "request_id": {"type": "string"}}}},
}


GATEWAY_MESSAGE = {
    "type": "object", "required": ["message"],
    "properties": {"message": {"type": "string", "examples": ["Unauthorized", "Forbidden"]}},
}


def _use_error_envelope(schema: dict) -> None:
    """Describe errors as API.md's envelope instead of Powertools' default 422 body."""
    schemas = schema["components"].setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(name, None)
    schemas["ErrorEnvelope"] = ERROR_ENVELOPE
    schemas["GatewayMessage"] = GATEWAY_MESSAGE
    ref = {"$ref": "#/components/schemas/ErrorEnvelope"}
    # The gateway itself answers some errors before any function runs (401 without credentials,
    # 403 refused by the authorizer, 413 over 10 MB, 429 throttled), in its own shape.
    either = {"anyOf": [ref, {"$ref": "#/components/schemas/GatewayMessage"}]}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = {str(k): v for k, v in operation.get("responses", {}).items()}
            operation["responses"] = responses
            if "204" in responses:
                # A 204 has no body; Powertools documents the route's `-> None` as JSON null.
                responses["204"].pop("content", None)
            if "422" in responses:
                responses["422"] = {"description": "Validation error",
                                    "content": {"application/json": {"schema": ref}}}
            responses.setdefault("default", {
                "description": "Error: the envelope, or the gateway's own `{message}`",
                "content": {"application/json": {"schema": either}}})


def _mark_public_routes(schema: dict) -> None:
    """Routes the template leaves without authorizer get `security: []` in the document."""
    from samcli.yamlhelper import yaml_parse

    template = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    public = set()
    for resource in template["Resources"].values():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            props = event.get("Properties", {})
            if event.get("Type") == "HttpApi" and props.get("Auth", {}).get("Authorizer") == "NONE":
                public.add((props["Method"].lower(), props["Path"]))
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if (method, path) in public:
                operation["security"] = []


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m local.openapi")
    parser.add_argument("--write", action="store_true", help="rewrite the committed document")
    args = parser.parse_args()
    text = generate()
    if args.write:
        SPEC_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {SPEC_PATH.relative_to(ROOT)} ({len(json.loads(text)['paths'])} paths)")
        return 0
    current = SPEC_PATH.read_text(encoding="utf-8") if SPEC_PATH.exists() else ""
    if current != text:
        print("openapi.json is stale: run `make openapi`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

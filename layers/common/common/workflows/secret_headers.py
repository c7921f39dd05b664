"""`http_request` header values marked secret (`{"secret": "..."}`): stored as KMS ciphertext
bound to the workflow (like connection tokens), shown masked, opened only to send the request."""

from __future__ import annotations

from typing import Any

from common.airtable.crypto import decrypt_token, encrypt_token

MASK = "\u2022" * 4


def _is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and "encrypted" in value


def shown(value: dict[str, Any]) -> dict[str, str]:
    """A stored secret as the API shows it (and takes back unchanged)."""
    return {"secret": MASK + value.get("last4", "")}


def seal(workflow_id: str, steps: list[dict[str, Any]],
         before: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The steps with each new secret header value encrypted; a value sent back as shown keeps
    what was stored for the same step and header."""

    stored = {(s["id"], name): value for s in before or [] if s.get("type") == "http_request"
              for name, value in (s["config"].get("headers") or {}).items() if _is_sealed(value)}
    out = []
    for step in steps:
        headers = step["config"].get("headers") if step["type"] == "http_request" else None
        if headers:
            sealed = {}
            for name, value in headers.items():
                if isinstance(value, dict):
                    kept = stored.get((step["id"], name))
                    if kept is not None and shown(kept) == value:
                        sealed[name] = kept
                    else:
                        secret = str(value["secret"])
                        sealed[name] = {"encrypted": encrypt_token(secret, _context(workflow_id)),
                                        "last4": secret[-4:] if len(secret) >= 12 else ""}
                else:
                    sealed[name] = value
            step = {**step, "config": {**step["config"], "headers": sealed}}
        out.append(step)
    return out


def masked(config: dict[str, Any]) -> dict[str, Any]:
    """A config with its sealed header values shown masked (definitions and step inputs)."""
    headers = config.get("headers")
    if not isinstance(headers, dict) or not any(_is_sealed(v) for v in headers.values()):
        return config
    return {**config, "headers": {k: shown(v) if _is_sealed(v) else v
                                  for k, v in headers.items()}}


def masked_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every step's config masked."""
    return [{**s, "config": masked(s["config"])} for s in steps]


def opened(workflow_id: str, headers: dict[str, Any] | None) -> dict[str, str]:
    """The headers to send: sealed values decrypted."""

    return {str(k): decrypt_token(v["encrypted"], _context(workflow_id)) if _is_sealed(v)
            else str(v) for k, v in (headers or {}).items()}


def _context(workflow_id: str) -> str:
    return f"workflow-header:{workflow_id}"

"""Airtable-shaped API errors raised by the emulator and rendered by the HTTP layer."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error response: HTTP status plus Airtable's `{"error": {"type", "message"}}` body."""

    def __init__(self, status: int, error_type: str, message: str | None = None) -> None:
        super().__init__(f"{status} {error_type}: {message}")
        self.status = status
        self.error_type = error_type
        self.message = message

    def body(self) -> dict[str, Any]:
        """Return the JSON body Airtable sends for this error."""
        error: dict[str, Any] = {"type": self.error_type}
        if self.message is not None:
            error["message"] = self.message
        return {"error": error}


class RouteNotFound(ApiError):
    """Unknown route or resource; Airtable answers with the bare `{"error": "NOT_FOUND"}`."""

    def __init__(self) -> None:
        super().__init__(404, "NOT_FOUND")

    def body(self) -> dict[str, Any]:
        """Return the bare form of the 404 body."""
        return {"error": "NOT_FOUND"}


def invalid_request(message: str = "") -> ApiError:
    """422 for a malformed request or bad parameter."""
    detail = "Invalid request: parameter validation failed. Check your request data."
    return ApiError(422, "INVALID_REQUEST_UNKNOWN", f"{detail} {message}".strip())


def model_not_found() -> ApiError:
    """403 used for unknown bases (Airtable does not reveal whether the base exists)."""
    return ApiError(
        403,
        "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
        "Invalid permissions, or the requested model was not found. Check that both your user"
        " and your token have the required permissions, and that the model names and/or ids"
        " are correct.",
    )


def unknown_field(name: str) -> ApiError:
    """422 for a write or projection naming a field the table does not have."""
    return ApiError(422, "UNKNOWN_FIELD_NAME", f'Unknown field name: "{name}"')


def invalid_value(message: str) -> ApiError:
    """422 for a cell value the field type cannot accept."""
    return ApiError(422, "INVALID_VALUE_FOR_COLUMN", message)

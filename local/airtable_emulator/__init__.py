"""A standard-library Airtable Web API emulator that unmodified pyairtable 3.x can talk to."""

from .errors import ApiError
from .server import DEFAULT_TOKENS, AirtableEmulator

__all__ = ["DEFAULT_TOKENS", "AirtableEmulator", "ApiError"]

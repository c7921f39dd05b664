"""Shared code of every PyAirtable Serverless function (shipped as the `common` Lambda layer)."""

__version__ = "0.1.0"

"""The runtime every domain stands on: settings, errors, the database and its models, the
clock, AWS clients, observability, HTTP handling and the caller's identity."""

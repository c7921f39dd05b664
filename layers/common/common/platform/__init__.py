"""The platform domain: health and operations, analytics, audit log, housekeeping, the API
document."""

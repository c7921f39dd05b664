"""Sagas: multi-step work on Step Functions whose every applied step can be undone."""

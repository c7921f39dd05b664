"""Workflows: definitions, triggers, the step runner and execution history."""

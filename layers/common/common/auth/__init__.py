"""Accounts, credentials and the authorizer's decision (shared by auth, users and authorizer)."""

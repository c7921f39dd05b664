"""Tenancy: workspaces, their members and roles, invitations, and the one access rule."""

"""Notifications: preferences, the dispatcher's fan-out, the inbox, signed webhooks and email."""

"""The account emails: verification and password reset, each carrying a single-use link."""

from __future__ import annotations

from common.core import mail


def send_verification(to: str, token: str) -> None:
    """The link that proves `to` is the account holder's address (24 h)."""
    mail.send_email(to, "Verify your email address for PyAirtable",
                    "Confirm that this is your email address by opening this link "
                    "(valid for 24 hours):\n\n"
                    f"{mail.link('/verify-email', token)}\n\n"
                    "If you did not create a PyAirtable account, ignore this email.\n")


def send_password_reset(to: str, token: str) -> None:
    """The link that sets a new password (1 h); every session and API key is revoked then."""
    mail.send_email(to, "Reset your PyAirtable password",
                    "Someone asked to reset the password of the PyAirtable account with this "
                    "email address. Choose a new password here (valid for 1 hour):\n\n"
                    f"{mail.link('/reset-password', token)}\n\n"
                    "Resetting signs the account out everywhere and revokes its API keys. "
                    "If you did not ask for this, ignore this email: the password stays as "
                    "it is.\n")


def send_no_account(to: str, _token: str = "") -> None:
    """A reset asked for an address with no active account: the same path and cost as a real
    reset email, so the answer's timing does not tell whether the account exists."""
    mail.send_email(to, "Reset your PyAirtable password",
                    "Someone asked to reset the password of a PyAirtable account with this "
                    "email address, but no active account uses it. If you did not ask for "
                    "this, ignore this email.\n")

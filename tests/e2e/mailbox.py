"""Reading what the stack sent: every email is also an .eml file in `stack.mail_dir`."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from pathlib import Path

from tests.helpers import wait_for


def messages_to(mail_dir: Path, address: str) -> list[EmailMessage]:
    """Every message sent to `address`, oldest first."""
    found = []
    for path in sorted(Path(mail_dir).glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"].lower() == address.lower():
            found.append(message)  # type: ignore[arg-type]
    return found


def token_from(mail_dir: Path, address: str, link_path: str) -> str:
    """The token of the newest link to `link_path` (e.g. `/verify-email`) sent to `address`."""
    pattern = re.compile(re.escape(link_path) + r"\?token=([A-Za-z0-9_\-.~%]+)")

    def newest() -> str | None:
        for message in reversed(messages_to(mail_dir, address)):
            match = pattern.search(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]
            if match:
                return match.group(1)
        return None

    return wait_for(newest, timeout=20, interval=0.1)

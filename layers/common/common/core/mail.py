"""Outgoing email: SES (moto's locally), and a copy as an .eml file when MAIL_DIR is set."""

from __future__ import annotations

import re
import time
from email.message import EmailMessage
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from common.core.aws import client
from common.core.errors import UpstreamError
from common.core.models import new_id
from common.core.settings import get_settings

# A subject may carry user-written text (a workspace's name): one line, and short.
MAX_SUBJECT_CHARS = 120


def compose(to: str, subject: str, text: str) -> EmailMessage:
    """The message as sent."""
    message = EmailMessage()
    message["From"] = get_settings().mail_from
    message["To"] = to
    message["Subject"] = one_line(subject, MAX_SUBJECT_CHARS)
    message["Message-ID"] = f"<{new_id()}@pyairtable.local>"
    message.set_content(text)
    return message


def send_email(to: str, subject: str, text: str) -> None:
    """Send one plain-text email; SES failures are an upstream error."""
    message = compose(to, subject, text)
    try:
        client("ses").send_raw_email(Source=message["From"], Destinations=[to],
                                     RawMessage={"Data": message.as_bytes()})
    except (ClientError, BotoCoreError) as e:
        raise UpstreamError("The email could not be sent.") from e
    mail_dir = get_settings().mail_dir
    if mail_dir:
        # As Django's file-based backend: one file per message, so a developer can open it.
        folder = Path(mail_dir)
        folder.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", to.lower())[:60]
        (folder / f"{time.time_ns()}-{slug}.eml").write_bytes(message.as_bytes())


def one_line(text: str, limit: int) -> str:
    """`text` with every run of whitespace and control characters (CR/LF: header injection)
    made one space, cut to `limit` characters."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "\u2026"


def link(path: str, token: str) -> str:
    """A link into the web UI carrying a single-use token."""
    return f"{get_settings().web_url.rstrip('/')}{path}?token={token}"

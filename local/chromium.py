"""Debian's Chromium, which the browser tests and the web benchmark drive through Playwright."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
MISSING = ("Debian's Chromium at /usr/bin/chromium is missing and could not be installed here. "
           "Install it with `sudo apt-get install chromium` (Playwright's own browser download "
           "is not used).")


def ensure_installed() -> bool:
    """Whether Chromium is there, installing it with apt-get first when running as root."""
    if CHROMIUM.exists():
        return True
    apt = shutil.which("apt-get")
    if apt and os.geteuid() == 0:
        subprocess.run([apt, "update", "-qq"], check=False, capture_output=True)
        subprocess.run([apt, "install", "-y", "-qq", "chromium"], check=False,
                       capture_output=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return CHROMIUM.exists()

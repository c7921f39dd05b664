"""What `sam build` packages, as a venv: the layer's requirements plus the plain boto3 the
Lambda runtime provides (no aws-sam-cli extras such as awscrt), cached under .bench/ by the
hash of those requirements."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

from bench.report import ROOT

LAYER_REQUIREMENTS = ROOT / "layers" / "common" / "requirements.txt"


def _boto3_pin() -> str:
    """boto3 at the version the dev environment pins (the runtime's own is close to it)."""
    text = (ROOT / "requirements-dev.txt").read_text()
    match = re.search(r"^boto3==(\S+)$", text, re.MULTILINE)
    return f"boto3=={match.group(1)}" if match else "boto3"


def python() -> Path:
    """The interpreter of the packaged environment, built on first use."""
    requirements = [LAYER_REQUIREMENTS.read_text(), _boto3_pin()]
    digest = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:12]
    home = ROOT / ".bench" / f"lambda-{digest}"
    interpreter = home / "bin" / "python"
    if (home / ".complete").exists():
        return interpreter
    shutil.rmtree(home, ignore_errors=True)
    print(f"bench: building the packaged environment in {home.relative_to(ROOT)}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
    subprocess.run([str(interpreter), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", "-r", str(LAYER_REQUIREMENTS), _boto3_pin()],
                   check=True)
    (home / ".complete").touch()
    return interpreter

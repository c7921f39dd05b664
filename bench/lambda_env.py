"""The Lambda runtime as a venv: the standard library and the plain boto3 it provides (no
aws-sam-cli extras such as awscrt), which runs what `sam build` built."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from bench.report import ROOT


def _boto3_pin() -> str:
    """boto3 at the version the dev environment pins (the runtime's own is close to it)."""
    text = (ROOT / "requirements-dev.txt").read_text()
    match = re.search(r"^boto3==(\S+)$", text, re.MULTILINE)
    return f"boto3=={match.group(1)}" if match else "boto3"


def runtime_python() -> Path:
    """An interpreter with only what the Lambda runtime provides (boto3 and botocore): the
    built layer and function code are put on its path as Lambda puts /opt/python and /var/task."""
    home = ROOT / ".bench" / f"runtime-{_boto3_pin().replace('==', '-')}"
    interpreter = home / "bin" / "python"
    if (home / ".complete").exists():
        return interpreter
    shutil.rmtree(home, ignore_errors=True)
    print(f"bench: building the runtime's environment in {home.relative_to(ROOT)}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
    subprocess.run([str(interpreter), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", _boto3_pin()], check=True)
    (home / ".complete").touch()
    return interpreter

"""`python -m local.runtime dev` (the whole stack) and `invoke` (a Docker-free sam local invoke)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from local.runtime.stack import ROOT, LocalStack, Options

# The runtime itself applies migrations with the layer's code, mounted as Lambda mounts /opt.
sys.path.insert(1, str(ROOT / "layers" / "common"))


def _from_environment(**options: Any) -> Options:
    """Options taking the settings a user exports (like every setting, from the environment)."""
    return Options(database_url=os.environ.get("DATABASE_URL"),
                   admin_emails=os.environ.get("ADMIN_EMAILS", ""),
                   registration=os.environ.get("REGISTRATION", "open"),
                   default_connection=os.environ.get("DEFAULT_CONNECTION", "every_workspace"),
                   mail_dir=Path(os.environ.get("MAIL_DIR") or ROOT / ".local" / "mail"),
                   auth_ip_limit_per_minute=int(os.environ.get("AUTH_IP_LIMIT_PER_MINUTE", "30")),
                   airtable_token=os.environ.get("AIRTABLE_TOKEN") or None,
                   airtable_endpoint=os.environ.get("AIRTABLE_ENDPOINT_URL",
                                                    "https://api.airtable.com"),
                   **options)


def _dev(args: argparse.Namespace) -> int:
    (ROOT / ".local").mkdir(exist_ok=True)
    # The emulator's bases survive restarts in .local/ (tests point it at a file of their own).
    persist = Path(os.environ.get("AIRTABLE_EMULATOR_FILE") or ROOT / ".local" / "airtable.json")
    stack = LocalStack(_from_environment(port=int(os.environ.get("PORT", args.port)),
                                         airtable_persist=persist))
    stop = threading.Event()
    # Ctrl-C and SIGTERM both end the wait below; it wakes twice a second, so a signal is seen
    # even if it arrived while the main thread was not waiting (a stop once took 30 s).
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        stack.start()
        print(stack.banner(), flush=True)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping...", flush=True)
        stack.stop()
    return 0


def _invoke(args: argparse.Namespace) -> int:
    event = json.loads(Path(args.event).read_text()) if args.event else {}
    overrides = json.loads(Path(args.env_vars).read_text()) if args.env_vars else {}
    function_env = {k: v for k, v in overrides.items() if k != "Parameters"}
    stack = LocalStack(_from_environment(port=None, prewarm=False, quiet=True,
                                         function_env=function_env))
    try:
        stack.start()
        result = stack.invoke(args.function, event)
    finally:
        stack.stop()
    body = result.error if result.error is not None else result.payload
    print(json.dumps(body, indent=2), flush=True)
    print(f"REPORT Duration: {result.duration_ms:.1f} ms{' (cold start)' if result.cold else ''}",
          file=sys.stderr)
    return 1 if result.error is not None else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.runtime")
    sub = parser.add_subparsers(dest="command", required=True)
    dev = sub.add_parser("dev", help="run the whole stack on http://127.0.0.1:3000")
    dev.add_argument("--port", default=3000, type=int)
    invoke = sub.add_parser("invoke", help="run one function once (like `sam local invoke`)")
    invoke.add_argument("function", help="logical id in template.yaml, e.g. AuthFunction")
    invoke.add_argument("-e", "--event", help="event file, e.g. events/auth/login.json")
    invoke.add_argument("-n", "--env-vars", help="JSON file of per-function variable overrides")
    args = parser.parse_args(argv)
    return _dev(args) if args.command == "dev" else _invoke(args)


if __name__ == "__main__":
    sys.exit(main())

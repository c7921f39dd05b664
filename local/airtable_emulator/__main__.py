"""Command line: `python -m local.airtable_emulator --port 8787 --token pat... --persist f.json`."""

from __future__ import annotations

import argparse
import signal
import threading

from .server import DEFAULT_TOKENS, AirtableEmulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse command-line options."""
    parser = argparse.ArgumentParser(description="Run the local Airtable Web API emulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--token", action="append", default=[],
                        help="accepted bearer token (repeatable); default: patEMULATOR")
    parser.add_argument("--user-id", default="usrEMULATOR000001",
                        help="user id that whoami reports for the tokens")
    parser.add_argument("--persist", default=None, help="JSON file to load from and save to")
    parser.add_argument("--rate-limit", type=int, default=5,
                        help="requests per second per base; 0 disables limiting")
    parser.add_argument("--lockout-seconds", type=float, default=30.0)
    parser.add_argument("--no-demo", action="store_true", help="do not seed the Demo CRM base")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Start the emulator and serve until interrupted."""
    args = parse_args(argv)
    tokens = {token: args.user_id for token in args.token} or dict(DEFAULT_TOKENS)
    emulator = AirtableEmulator(
        host=args.host, port=args.port, tokens=tokens, rate_limit=args.rate_limit or None,
        lockout_seconds=args.lockout_seconds, persist_path=args.persist,
    )
    emulator.start()
    if not args.no_demo:
        base_id = emulator.seed_demo()
        print(f"Demo CRM base: {base_id}", flush=True)
    print(f"Airtable emulator listening on {emulator.url}", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()

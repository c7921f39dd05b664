"""`make dev`'s stack for the load figures: the same options as `python -m local.runtime dev`
(from the environment), with the stage's route throttling lifted so the figures measure the
stack, not the 50 requests/s a deployment allows per route. Prints the banner; SIGINT stops."""

from __future__ import annotations

import signal
import sys
import threading

from bench.report import ROOT

sys.path.insert(1, str(ROOT / "layers" / "common"))

UNTHROTTLED = {"ApiThrottlingRateLimit": "1000000", "ApiThrottlingBurstLimit": "1000000"}


def main(port: int) -> None:
    from local.runtime.__main__ import _from_environment
    from local.runtime.stack import LocalStack

    options = _from_environment(port=port)
    options.parameters = dict(UNTHROTTLED)
    stack = LocalStack(options)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        stack.start()
        print(stack.banner(), flush=True)
        stop.wait()
    finally:
        stack.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]))

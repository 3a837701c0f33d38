"""`python -m local.host`: run function_app.py locally with the Functions host's semantics.

Prints one ready line to stdout, `Host started: http://127.0.0.1:<port> (functions: a, b)`, once every
trigger listens; log lines go to stdout too. SIGINT and SIGTERM stop it cleanly (exit 0); a start-up error
exits 1 with the reason on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from local.azurite import Azurite
from local.host.keys import KEY_SETTING
from local.host.runtime import Host, HostStartupError
from local.host.storage import DEFAULT_CONNECTION

log = logging.getLogger("local.host")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.host", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--app-dir", type=Path, default=Path("."), help="folder with function_app.py and host.json"
    )
    parser.add_argument("--port", type=int, default=None, help="HTTP port (0: any free port; default: "
                        "local.settings.json Host.LocalHttpPort, else 7071)")  # fmt: skip
    parser.add_argument("--host", default="127.0.0.1", help="HTTP listen address (default 127.0.0.1)")
    parser.add_argument("--settings", type=Path, default=None, help="settings file instead of "
                        "<app-dir>/local.settings.json")  # fmt: skip
    parser.add_argument("--azurite", action="store_true", help="start an Azurite and point "
                        f"{DEFAULT_CONNECTION} at it (unless set in the environment)")  # fmt: skip
    parser.add_argument("--exit-with-parent", action="store_true", help="stop, as on SIGTERM, when stdin "
                        "reaches end-of-file (the parent holds the pipe; it closes however the parent ends)")  # fmt: skip
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda received, _frame: stop.set())
    if args.exit_with_parent:
        threading.Thread(target=_stop_at_end_of_input, args=(stop,), name="parent-watch", daemon=True).start()
    with contextlib.ExitStack() as stack:
        host = Host(
            args.app_dir, port=args.port, host=args.host, settings_path=args.settings, log_stream=sys.stdout
        )
        if args.azurite and DEFAULT_CONNECTION not in os.environ:
            azurite = stack.enter_context(Azurite())
            os.environ[DEFAULT_CONNECTION] = azurite.connection_string
            print(f"Azurite started for {DEFAULT_CONNECTION}: queues at {azurite.queue_endpoint}", flush=True)
        try:
            host.start()
        except HostStartupError as error:
            print(f"Host failed to start: {error}", file=sys.stderr, flush=True)
            return 1
        stack.callback(host.stop)
        if host.function_key_generated:
            print(
                f"Function key for this run (local development only; set {KEY_SETTING} to choose one): "
                f"{host.function_key}",
                flush=True,
            )
        print(f"Host started: {host.base_url} (functions: {', '.join(host.functions)})", flush=True)
        while not stop.wait(0.5):
            if host.stopped:
                log.error("The host stopped on its own; exiting")
                return 1
    return 0


def _stop_at_end_of_input(stop: threading.Event) -> None:
    """Read stdin until end-of-file: the parent that started us has ended, so we end too."""
    # os.read, not sys.stdin: a buffered reader's lock, held by this thread, would abort interpreter shutdown.
    while os.read(0, 65536):
        pass
    stop.set()


if __name__ == "__main__":
    sys.exit(main())

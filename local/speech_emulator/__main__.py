"""`python -m local.speech_emulator`: run the Speech emulator until interrupted."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from local.speech_emulator.config import EmulatorConfig
from local.speech_emulator.server import EmulatorServer

_DEFAULTS = EmulatorConfig(storage_connection_string="")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.speech_emulator", description=__doc__)
    parser.add_argument("--azurite-connection-string", required=True, help="storage for the result blobs")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 lets the OS choose (default)")
    parser.add_argument("--key", action="append", help="accepted subscription key (repeatable)")
    parser.add_argument("--entra-only", action="store_true", help="no keys: accept only Entra bearer tokens")
    parser.add_argument("--token-public-key", type=Path, help="PEM public key that signs accepted tokens")
    parser.add_argument("--phase-seconds", type=float, default=_DEFAULTS.phase_seconds)
    parser.add_argument("--retry-after", type=int, default=_DEFAULTS.retry_after_seconds)
    parser.add_argument("--throttle-limit", type=int, default=_DEFAULTS.throttle_limit)
    parser.add_argument("--throttle-window", type=float, default=_DEFAULTS.throttle_window_seconds)
    parser.add_argument("--page-size", type=int, default=_DEFAULTS.default_page_size)
    parser.add_argument("--results-container", default=_DEFAULTS.results_container)
    parser.add_argument("--tick-seconds", type=float, default=_DEFAULTS.tick_seconds)
    parser.add_argument("--webhook-retries", type=int, default=_DEFAULTS.webhook_retries)
    parser.add_argument(
        "--webhook-retry-interval", type=float, default=_DEFAULTS.webhook_retry_interval_seconds
    )
    parser.add_argument("--webhook-timeout", type=float, default=_DEFAULTS.webhook_timeout_seconds)
    parser.add_argument("--log-level", default="info")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = EmulatorConfig(
        storage_connection_string=args.azurite_connection_string,
        keys=() if args.entra_only else tuple(args.key) if args.key else _DEFAULTS.keys,
        token_public_key_pem=args.token_public_key.read_text() if args.token_public_key else None,
        phase_seconds=args.phase_seconds,
        retry_after_seconds=args.retry_after,
        throttle_limit=args.throttle_limit,
        throttle_window_seconds=args.throttle_window,
        default_page_size=args.page_size,
        results_container=args.results_container,
        tick_seconds=args.tick_seconds,
        webhook_retries=args.webhook_retries,
        webhook_retry_interval_seconds=args.webhook_retry_interval,
        webhook_timeout_seconds=args.webhook_timeout,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with EmulatorServer(config, host=args.host, port=args.port, log_level=args.log_level) as emulator:
        print(f"Speech emulator listening on {emulator.endpoint}", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A local Application Insights ingestion endpoint: keeps every envelope the Azure Monitor exporters send.

The exporters POST JSON arrays of envelopes (possibly gzipped) to `<IngestionEndpoint>/v2.1/track`; a
connection string whose IngestionEndpoint (and LiveEndpoint) is this server sends everything here instead of
to Azure. Tests read `envelopes()`; `python -m local.telemetry_capture` prints the connection string, then one
JSON line per envelope, so the app's telemetry can be watched locally.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import ssl
import sys
import threading
import uuid
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from local.json_reply import send_json

TRACK_PATH = "/v2.1/track"


def decode_envelopes(body: bytes, encoding: str | None) -> list[dict[str, Any]]:
    """The envelopes in one POST: a JSON array, or one JSON object per line (older exporters)."""
    if (encoding or "").lower() == "gzip":
        body = gzip.decompress(body)
    text = body.decode("utf-8")
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = [json.loads(line) for line in text.splitlines() if line.strip()]
    items = parsed if isinstance(parsed, list) else [parsed]
    return [item for item in items if isinstance(item, dict)]


class TelemetryCapture:
    """The server, on a free port of 127.0.0.1, in a background thread; a context manager."""

    def __init__(
        self,
        *,
        instrumentation_key: str | None = None,
        on_envelope: Callable[[dict[str, Any]], None] | None = None,
        certificate: tuple[Path, Path] | None = None,
    ) -> None:
        """`certificate` (certificate and key PEM files) serves HTTPS: the exporters send an Entra token only
        over TLS (trust the certificate's CA through REQUESTS_CA_BUNDLE)."""
        self.instrumentation_key = instrumentation_key or str(uuid.uuid4())
        self._on_envelope = on_envelope
        self._lock = threading.Lock()
        self._envelopes: list[dict[str, Any]] = []
        self._authorizations: list[str | None] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._scheme = "http"
        if certificate is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*certificate)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self._scheme = "https"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="telemetry-capture", daemon=True
        )

    @property
    def endpoint(self) -> str:
        return f"{self._scheme}://127.0.0.1:{self._server.server_address[1]}/"

    @property
    def connection_string(self) -> str:
        return (
            f"InstrumentationKey={self.instrumentation_key};"
            f"IngestionEndpoint={self.endpoint};LiveEndpoint={self.endpoint}"
        )

    def envelopes(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._envelopes)

    def authorizations(self) -> list[str | None]:
        """The Authorization header of each track request (None when absent): Entra auth sends a bearer."""
        with self._lock:
            return list(self._authorizations)

    def start(self) -> TelemetryCapture:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    def __enter__(self) -> TelemetryCapture:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _keep(self, envelopes: list[dict[str, Any]], authorization: str | None) -> None:
        with self._lock:
            self._envelopes.extend(envelopes)
            self._authorizations.append(authorization)
        if self._on_envelope is not None:
            for envelope in envelopes:
                self._on_envelope(envelope)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.split("?", 1)[0].rstrip("/").endswith(TRACK_PATH):
                    try:
                        envelopes = decode_envelopes(body, self.headers.get("Content-Encoding"))
                    except (ValueError, OSError) as error:
                        send_json(self, HTTPStatus.BAD_REQUEST, {"error": str(error)})
                        return
                    capture._keep(envelopes, self.headers.get("Authorization"))
                    count = len(envelopes)
                    send_json(
                        self, HTTPStatus.OK, {"itemsReceived": count, "itemsAccepted": count, "errors": []}
                    )
                else:  # live metrics pings and posts: accepted, not kept
                    send_json(self, HTTPStatus.OK, {})

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the server's own access log is noise."""

        return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local.telemetry_capture", description=__doc__.splitlines()[0]
    )
    parser.parse_args(argv)

    def show(envelope: dict[str, Any]) -> None:
        print(json.dumps(envelope, ensure_ascii=False), flush=True)

    with TelemetryCapture(on_envelope=show) as capture:
        print(f"APPLICATIONINSIGHTS_CONNECTION_STRING={capture.connection_string}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())

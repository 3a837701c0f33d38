"""Running the emulator: uvicorn serving the app from a background thread, on a port the OS picks.

The listening socket is bound before uvicorn starts, so the endpoint is known at once and connections made
during start-up simply queue. uvicorn is pinned to its h11 protocol (connection faults rely on it), runs the
app's lifespan (the web hook ticker and delivery worker live exactly as long as the server) but no signal
handling or global logging configuration, and stops within a few event-loop ticks.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from local.speech_emulator.admin_client import AdminClient
from local.speech_emulator.app import build_app
from local.speech_emulator.config import EmulatorConfig

START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 5.0


class EmulatorError(RuntimeError):
    """The emulator could not start."""


class EmulatorServer:
    def __init__(
        self, config: EmulatorConfig, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning"
    ) -> None:
        self.config = config
        self.host = host
        self._requested_port = port
        self._log_level = log_level
        self._port: int | None = None
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._admin: AdminClient | None = None

    def start(self) -> EmulatorServer:
        app = build_app(self.config)
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets that say so, and without it every
        # response of a kept-alive connection waits ~40 ms for a delayed ACK (Nagle).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        sock.listen(128)
        self._socket = sock
        self._port = sock.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                http="h11",
                ws="none",
                lifespan="on",
                log_config=None,
                log_level=self._log_level,
                access_log=False,
                proxy_headers=False,
                timeout_graceful_shutdown=1,
            )
        )
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="speech-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise EmulatorError("the Speech emulator did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_SECONDS)
        if self._socket is not None:
            self._socket.close()
        if self._admin is not None:
            self._admin.close()
        self._server = self._thread = self._socket = self._admin = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise EmulatorError("the Speech emulator is not running")
        return self._port

    @property
    def endpoint(self) -> str:
        """Base URL like the resource endpoint: append /speechtotext/v3.2/... or /speechtotext/...?api-version=."""
        return f"http://{self.host}:{self.port}"

    @property
    def admin(self) -> AdminClient:
        if self._admin is None:
            self._admin = AdminClient(self.endpoint)
        return self._admin

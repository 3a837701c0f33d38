"""Real HTTP servers for the Speech client's transport tests: each answers from a script the test writes.

`ScriptedServer` is Starlette on uvicorn in a background thread; it records every request it receives and
answers with the next scripted `Reply` (then with `default`). `DroppingServer` is a bare TCP server that
reads a request and closes the connection without answering: the one failure uvicorn will not produce.
"""

import asyncio
import socket
import socketserver
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from tests.fixtures.waiting import wait_for


@dataclass(frozen=True)
class Reply:
    status: int = 200
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # sent as-is (with a correct Content-Length) instead of `json`
    truncate: bool = False  # declare a 1000-byte body, send a few bytes, close the connection
    delay: float = 0.0  # seconds before answering (for read timeouts)


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


class _TruncatedResponse(Response):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"1000")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"values": [{"se', "more_body": True})
        raise RuntimeError("scripted truncation: the connection closes mid-body")


class ScriptedServer:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.default = Reply(json={})
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        app = Starlette(
            routes=[Route("/{path:path}", self._answer, methods=["GET", "POST", "PATCH", "PUT", "DELETE"])]
        )
        # No automatic Date header: a test that needs the service clock scripts it.
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="critical", lifespan="off", date_header=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="scripted-speech", daemon=True)

    def __enter__(self) -> "ScriptedServer":
        self._thread.start()
        wait_for(lambda: self._server.started, timeout=10, what="scripted server start")
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def script(self, *replies: Reply, default: Reply | None = None) -> None:
        """Answer the next requests with `replies` in order, then with `default`; forget earlier requests."""
        with self._lock:
            self._script = deque(replies)
            self.default = default or Reply(json={})
            self.received.clear()

    async def _answer(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self.received.append(
                Received(request.method, request.url.path, request.url.query, dict(request.headers), body)
            )
            reply = self._script.popleft() if self._script else self.default
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.truncate:
            return _TruncatedResponse()
        if reply.raw is not None:
            return Response(reply.raw, reply.status, reply.headers, media_type="application/json")
        if reply.json is None:
            return Response(b"", reply.status, reply.headers)
        return JSONResponse(reply.json, reply.status, reply.headers)


class _Hangup(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.server.connections += 1  # type: ignore[attr-defined]
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.request.recv(65536)
            if not chunk:
                break
            data += chunk
        self.request.close()


class DroppingServer(socketserver.ThreadingTCPServer):
    """Accepts, reads the request head, hangs up: the client sees the connection aborted with no answer."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Hangup)
        self.connections = 0
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="dropping-speech", daemon=True
        )

    def __enter__(self) -> "DroppingServer":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()
        self.server_close()


def refused_url() -> str:
    """A local address where nothing listens (a port the OS just handed out and took back)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"

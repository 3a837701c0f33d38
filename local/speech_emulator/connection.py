"""Connection-level faults: closing a connection without a response, or mid-response.

ASGI has no "abort" message and uvicorn answers 500 when an app fails before responding, so a handler raises
CloseConnection (a BaseException, which Starlette's error middleware lets through untouched) and the outermost
wrapper closes the socket's transport itself. The transport is reached through the bound `send` of uvicorn's
h11 request cycle; the server pins the h11 protocol so this stays true.
"""

from __future__ import annotations

import asyncio

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send


class CloseConnection(BaseException):
    """Unwinds a request so that the connection is closed with whatever was sent so far."""


class ConnectionFaults:
    """Outermost ASGI wrapper that turns CloseConnection into a closed TCP connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except CloseConnection:
            transport = getattr(getattr(send, "__self__", None), "transport", None)
            if transport is None:
                raise RuntimeError("connection faults need uvicorn's h11 protocol") from None
            transport.close()
            # Let uvicorn see the connection go before the app returns, so it neither logs nor answers.
            await asyncio.sleep(0)


class TruncatedResponse(Response):
    """Declares one byte more than the whole body, sends half of it, then drops the connection: the client
    always sees an incomplete read, even for an empty body."""

    def __init__(self, original: Response) -> None:
        super().__init__(status_code=original.status_code)
        self.body = bytes(original.body)
        self.raw_headers = [(k, v) for k, v in original.raw_headers if k.lower() != b"content-length"]
        self.raw_headers.append((b"content-length", str(len(self.body) + 1).encode()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send(
            {"type": "http.response.body", "body": self.body[: len(self.body) // 2], "more_body": True}
        )
        raise CloseConnection

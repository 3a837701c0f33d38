"""HTTP triggers: a small Starlette app served by uvicorn, routing like the host's front end.

Requests are matched against `<routePrefix>/<route>` templates (most specific first), filtered by the
function's methods (405 when the path exists for other methods), checked against the function key for
FUNCTION and ADMIN auth levels (401), and turned into `func.HttpRequest`. The function's return value goes
back through the same rules as the Python worker's HTTP output converter: `func.HttpResponse` or `str`;
anything else fails the invocation (500), as it does in Azure.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterable, Sequence
from typing import Any

import azure.functions as func
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from local.host.eventgrid import EVENT_TYPE_HEADER, WEBHOOK_PATH, BlobWebhook
from local.host.indexing import HttpFunction
from local.host.invocation import Invoker
from local.host.keys import FunctionKey, authorised, presented_key
from local.host.routes import split_path

ANONYMOUS = "anonymous"
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
_REASON = "This function was programmatically called via the host APIs."


def to_response(value: Any) -> Response:
    """The HTTP response for a function's return value, as the worker's converter builds it."""
    if isinstance(value, str):
        return Response(value.encode("utf-8"), headers={"content-type": "text/plain; charset=utf-8"})
    if isinstance(value, func.HttpResponse):
        headers = dict(value.headers)
        if not any(name.lower() == "content-type" for name in headers):
            textual = value.mimetype.startswith("text/")
            headers["content-type"] = (
                f"{value.mimetype}; charset={value.charset}" if textual else value.mimetype
            )
        return Response(value.get_body() or b"", status_code=value.status_code, headers=headers)
    raise TypeError(f"an HTTP function must return func.HttpResponse or str, not {type(value).__name__}")


def _flatten(items: Iterable[tuple[str, str]], separator: str) -> dict[str, str]:
    """Repeated names become one comma-joined value, as the host hands them to the worker."""
    merged: dict[str, str] = {}
    for name, value in items:
        merged[name] = f"{merged[name]}{separator}{value}" if name in merged else value
    return merged


class HttpFrontEnd:
    def __init__(
        self,
        functions: Sequence[HttpFunction],
        invoker: Invoker,
        key: FunctionKey,
        blob_webhook: BlobWebhook | None = None,
    ) -> None:
        # sorted() is stable: among equally specific routes the first registered wins.
        self._functions = sorted(functions, key=lambda function: function.route.precedence)
        self._invoker = invoker
        self._key = key
        self._blob_webhook = blob_webhook

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.handle, methods=_METHODS)])

    async def handle(self, request: Request) -> Response:
        if self._blob_webhook is not None and request.url.path.rstrip("/").lower() == WEBHOOK_PATH:
            return await self._blob_event(request, self._blob_webhook)
        path = split_path(request.url.path)
        matches = [(f, values) for f in self._functions if (values := f.route.match(path)) is not None]
        if not matches:
            return Response(status_code=404)
        method = request.method.upper()
        allowed = [(f, values) for f, values in matches if f.methods is None or method in f.methods]
        if not allowed:
            methods = sorted({m for f, _ in matches for m in (f.methods or ())})
            return Response(status_code=405, headers={"allow": ", ".join(methods)})
        function, route_params = allowed[0]
        query = _flatten(request.query_params.multi_items(), ",")
        headers = _flatten(request.headers.items(), ", ")
        if function.auth_level != ANONYMOUS and not authorised(presented_key(query, headers), self._key):
            return Response(status_code=401)
        http_request = func.HttpRequest(
            method,
            str(request.url),
            headers=headers,
            params=query,
            route_params=route_params,
            body=await request.body(),
        )
        outcome = await self._invoker.invoke(function, http_request, reason=_REASON, convert=to_response)
        return outcome.value if outcome.succeeded else Response(status_code=500)

    async def _blob_event(self, request: Request, webhook: BlobWebhook) -> Response:
        """Event Grid's deliveries for blob triggers (the blobs extension's system key is the function key)."""
        if request.method.upper() != "POST":
            return Response(status_code=405, headers={"allow": "POST"})
        query = _flatten(request.query_params.multi_items(), ",")
        headers = _flatten(request.headers.items(), ", ")
        if not authorised(presented_key(query, headers), self._key):
            return Response(status_code=401)
        status, body = await webhook.handle(
            query.get("functionName", ""), request.headers.get(EVENT_TYPE_HEADER, ""), await request.body()
        )
        if body is None:
            return Response(status_code=status)
        return Response(json.dumps(body), status_code=status, media_type="application/json")


def bind(host: str, port: int) -> socket.socket:
    """Listen before the server starts, so port 0 is resolved and early clients wait in the backlog."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=128)


class HttpServer:
    """uvicorn on the host's event loop, on an already listening socket."""

    def __init__(self, app: Starlette, sock: socket.socket, grace: float) -> None:
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=max(1, round(grace)),
        )
        self._server = uvicorn.Server(config)
        self._socket = sock
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]), name="http")

    async def stop(self) -> None:
        """Stop accepting, let requests in progress finish (bounded by the grace period)."""
        self._server.should_exit = True
        if self._task is not None:
            await self._task

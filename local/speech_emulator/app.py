"""Assembling the ASGI application: admin API, both Speech path families, the conversation transcription
endpoint, service-shaped 404/405, and the background work that runs while the server does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount

from local.speech_emulator import admin
from local.speech_emulator.config import EmulatorConfig
from local.speech_emulator.connection import ConnectionFaults
from local.speech_emulator.errors import ApiError
from local.speech_emulator.isotime import utc_now
from local.speech_emulator.offlinetask import PREFIX as CONVERSATIONS_PREFIX
from local.speech_emulator.routes import conversation_routes, speech_routes
from local.speech_emulator.state import EmulatorState
from local.speech_emulator.storage import ResultStorage
from local.speech_emulator.ticker import background
from local.speech_emulator.versions import Family


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return ApiError(
            405, "NotAllowed", f"{request.method} is not allowed on {request.url.path}."
        ).response()
    return ApiError(404, "NotFound", f"No resource at {request.url.path}.").response()


def build_app(config: EmulatorConfig, *, clock: Callable[[], datetime] = utc_now) -> ConnectionFaults:
    """The emulator app; creates the managed results container in Azurite first (blocking, once)."""
    storage = ResultStorage(config.storage_connection_string, config.results_container)
    storage.ensure_container()
    app = Starlette(
        routes=[
            Mount("/_emulator", routes=admin.ROUTES),
            # The v3.2 mount must come first: /speechtotext would otherwise claim its paths.
            Mount(Family.PATH.value, routes=speech_routes(Family.PATH)),
            Mount(Family.QUERY.value, routes=speech_routes(Family.QUERY)),
            Mount(CONVERSATIONS_PREFIX, routes=conversation_routes()),
        ],
        exception_handlers={404: _http_error, 405: _http_error},
        lifespan=background,
    )
    app.state.emulator = EmulatorState.create(config, storage, clock)
    return ConnectionFaults(app)

"""What every Speech API request goes through before and after its handler.

Order: authenticate (401), throttle per key (429), check the request's addressing (the API version, or the
conversation id of `offlinetask`; 400), draw faults, run the handler; errors become service-shaped bodies and
every call is counted for the admin stats. Route handlers therefore only deal with their operation.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, partial
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response

from local.speech_emulator.config import EmulatorConfig
from local.speech_emulator.connection import CloseConnection, TruncatedResponse
from local.speech_emulator.errors import (
    ApiError,
    internal_error,
    invalid_request,
    invalid_token,
    too_many_requests,
    unauthorized,
)
from local.speech_emulator.faults import NO_FAULTS, FaultEffects
from local.speech_emulator.state import EmulatorState
from local.speech_emulator.tokens import TokenRejected, check_token
from local.speech_emulator.versions import QUERY_VERSIONS, ApiVersion, Family, Urls

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Call:
    """One Speech API request, authenticated and versioned, as handlers see it."""

    request: Request
    version: ApiVersion
    state: EmulatorState
    effects: FaultEffects
    now: datetime

    @cached_property
    def urls(self) -> Urls:
        return Urls(str(self.request.base_url).rstrip("/"), self.version)

    def path(self, name: str) -> str:
        return str(self.request.path_params[name]).lower()


Checked = TypeVar("Checked")
Handler = Callable[[Call], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]
# A handler outside the versioned Speech API: the request, what its check returned, the state, the faults drawn.
Respond = Callable[[Request, Checked, EmulatorState, FaultEffects], Awaitable[Response]]


def _caller(request: Request, config: EmulatorConfig) -> str:
    """Who is calling, for throttling: the subscription key, or (Entra ID) a digest of the bearer token.

    Without keys the resource is Entra-only: a key is refused and a token must pass the service's checks."""
    key = request.headers.get("Ocp-Apim-Subscription-Key")
    if key is not None:
        if any(hmac.compare_digest(key.encode(), known.encode()) for known in config.keys):
            return key
        raise unauthorized()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise unauthorized()
    if not config.keys:
        try:
            check_token(token, audience=config.token_audience, public_key_pem=config.token_public_key_pem)
        except TokenRejected as error:
            raise invalid_token(str(error)) from None
    return "bearer:" + hashlib.sha256(token.encode()).hexdigest()


def _version(request: Request, family: Family) -> ApiVersion:
    if family is Family.PATH:
        return ApiVersion.V3_2
    supported = ", ".join(version.value for version in QUERY_VERSIONS)
    requested = request.query_params.get("api-version")
    if requested is None:
        raise invalid_request(
            f"The 'api-version' query parameter is required. Supported versions: {supported}.",
            "InvalidParameterValue",
        )
    for version in QUERY_VERSIONS:
        if version.value == requested:
            return version
    raise invalid_request(
        f"The api-version '{requested}' is not supported. Supported versions: {supported}.",
        "InvalidParameterValue",
    )


async def _admit(
    request: Request, state: EmulatorState, route: str, check: Callable[[Request], Checked]
) -> tuple[Checked, FaultEffects]:
    """Everything before the handler; raises the error response a request gets instead."""
    wait = state.throttle.admit(_caller(request, state.config))
    if wait is not None:
        raise too_many_requests(wait)
    checked = check(request)
    effects = state.faults.draw(route)
    if effects.delay_seconds:
        await asyncio.sleep(effects.delay_seconds)
    if effects.drop:
        state.stats.record(route, None)
        raise CloseConnection
    if effects.error is not None:
        raise effects.error
    return checked, effects


def guarded_endpoint(route: str, check: Callable[[Request], Checked], respond: Respond[Checked]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        state: EmulatorState = request.app.state.emulator
        effects = NO_FAULTS
        try:
            checked, effects = await _admit(request, state, route, check)
            response = await respond(request, checked, state, effects)
        except ApiError as error:
            response = error.response()
        except Exception:
            log.exception("%s failed", route)
            response = internal_error().response()
        state.stats.record(route, response.status_code)
        return TruncatedResponse(response) if effects.truncate else response

    return endpoint


def speech_endpoint(route: str, family: Family, handler: Handler) -> Endpoint:
    async def respond(
        request: Request, version: ApiVersion, state: EmulatorState, effects: FaultEffects
    ) -> Response:
        return await handler(Call(request, version, state, effects, state.clock()))

    return guarded_endpoint(route, partial(_version, family=family), respond)

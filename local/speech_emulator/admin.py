"""The emulator's admin API under /_emulator (no auth, not throttled, not counted): stats, reset, seeding,
forcing completion, fault rules, the web hook delivery log and creating conversations. Tests use it through
AdminClient."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from local.speech_emulator.admin_wire import (
    CompleteRequest,
    CompleteResponse,
    ConversationCreated,
    ConversationRequest,
    DeliveriesOut,
    FaultCreated,
    FaultRequest,
    SeedRequest,
    SeedResponse,
)
from local.speech_emulator.conversations_store import DEFAULT_UTTERANCES, Conversation, ProcessingStatus
from local.speech_emulator.errors import ApiError, from_validation, invalid_request, not_found
from local.speech_emulator.faults import ANY_ROUTE
from local.speech_emulator.inputs import from_content_urls
from local.speech_emulator.lifecycle import JobState, Schedule, Status
from local.speech_emulator.locales import canonical_locale
from local.speech_emulator.render import json_response
from local.speech_emulator.routes import ROUTE_KEYS
from local.speech_emulator.state import EmulatorState
from local.speech_emulator.store import Job, JobError, Options, natural_outcome
from local.speech_emulator.versions import ApiVersion

M = TypeVar("M", bound=BaseModel)
Endpoint = Callable[[Request], Awaitable[Response]]

SEED_AUDIO_BASE = "https://seed.speech-emulator.invalid/audio"
_SEED_OPTIONS = Options()
FORCED_FAILURE = JobError("InternalError", "The transcription was failed through the emulator's admin API.")


def _state(request: Request) -> EmulatorState:
    return request.app.state.emulator


async def _body(request: Request, model: type[M]) -> M:
    try:
        return model.model_validate_json(await request.body() or b"{}")
    except ValidationError as error:
        raise from_validation(error, "request") from None


def _admin(handler: Endpoint) -> Endpoint:
    """Admin errors use the same error body as the Speech API."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as error:
            return error.response()

    return endpoint


async def stats(request: Request) -> Response:
    return json_response(_state(request).stats.snapshot())


async def reset_stats(request: Request) -> Response:
    _state(request).stats.clear()
    return Response(status_code=204)


async def reset(request: Request) -> Response:
    _state(request).reset()
    return Response(status_code=204)


async def seed(request: Request) -> Response:
    """Many jobs at once, pinned in the given status; their result blobs are written when first listed, or
    before the answer with `materialise` (finished jobs only)."""
    body = await _body(request, SeedRequest)
    state = _state(request)
    locale = canonical_locale(body.locale)
    if locale is None:
        raise invalid_request(f"The locale '{body.locale}' is not supported.", "InvalidLocale")
    now = state.clock()
    created = body.created_date_time or now
    pinned = JobState(Status(body.status), body.last_action_date_time or created)
    phase = timedelta(seconds=state.config.phase_seconds)
    ids = []
    written = []
    for number in range(body.count):
        job_id = str(uuid.uuid4())
        inputs = from_content_urls(
            [f"{SEED_AUDIO_BASE}/{job_id}/audio_{index}.wav" for index in range(body.inputs)]
        )
        job = Job(
            id=job_id,
            display_name=body.display_name or f"Seeded transcription {number}",
            locale=locale,
            inputs=inputs,
            options=_SEED_OPTIONS,
            schedule=Schedule(created=created, phase=phase, outcome=natural_outcome(inputs), pinned=pinned),
            created_with=ApiVersion.V2024_11_15,
            seeded=True,
        )
        state.store.add(job)
        if body.materialise and pinned.status.terminal:
            written.append(state.materialiser.files(job, job.state(now)))
        ids.append(job_id)
    await asyncio.gather(*written)
    return json_response(SeedResponse(ids=ids))


async def complete(request: Request) -> Response:
    """Force a job into a terminal state now, stamped now or at the given earlier time (a job that already
    finished differently is a conflict)."""
    body = await _body(request, CompleteRequest)
    state = _state(request)
    job = state.store.get(request.path_params["id"])
    if job is None:
        raise not_found("transcription")
    now = state.clock()
    target = Status(body.status)
    current = job.state(now)
    if current.status.terminal and current.status is not target:
        raise ApiError(409, "Conflict", f"The transcription already finished as {current.status.value}.")
    stamp = body.last_action_date_time or now
    if stamp > now:
        raise invalid_request("lastActionDateTime must not be in the future.", "InvalidParameterValue")
    if not current.status.terminal:
        job.schedule = replace(job.schedule, forced=JobState(target, stamp))
        job.forced_error = FORCED_FAILURE if target is Status.FAILED else None
    return json_response(CompleteResponse(id=job.id, status=target.value))


async def add_fault(request: Request) -> Response:
    body = await _body(request, FaultRequest)
    if body.route not in ROUTE_KEYS and body.route != ANY_ROUTE:
        known = ", ".join(sorted(ROUTE_KEYS))
        raise invalid_request(
            f"Unknown route '{body.route}'; use '*' or one of: {known}.", "InvalidParameterValue"
        )
    return json_response(FaultCreated(id=_state(request).faults.add(body)))


async def clear_faults(request: Request) -> Response:
    _state(request).faults.clear()
    return Response(status_code=204)


async def deliveries(request: Request) -> Response:
    return json_response(DeliveriesOut(values=_state(request).notifier.deliveries()))


async def create_conversation(request: Request) -> Response:
    """A conversation whose audio counts as uploaded (creating one with a known id replaces it)."""
    body = await _body(request, ConversationRequest)
    state = _state(request)
    state.conversations.put(
        Conversation(
            id=body.id,
            created=state.clock(),
            phase=timedelta(seconds=state.config.phase_seconds),
            utterances=DEFAULT_UTTERANCES if body.utterances is None else body.utterances,
            pinned=ProcessingStatus(body.status) if body.status is not None else None,
        )
    )
    return json_response(ConversationCreated(id=body.id), 201)


ROUTES = [
    Route("/stats", _admin(stats), methods=["GET"]),
    Route("/stats/reset", _admin(reset_stats), methods=["POST"]),
    Route("/reset", _admin(reset), methods=["POST"]),
    Route("/seed", _admin(seed), methods=["POST"]),
    Route("/transcriptions/{id}/complete", _admin(complete), methods=["POST"]),
    Route("/faults", _admin(add_fault), methods=["POST"]),
    Route("/faults", _admin(clear_faults), methods=["DELETE"]),
    Route("/webhooks/deliveries", _admin(deliveries), methods=["GET"]),
    Route("/conversations", _admin(create_conversation), methods=["POST"]),
]

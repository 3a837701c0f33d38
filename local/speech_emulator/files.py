"""Result files of a transcription: list (paged, filterable) and get, with contentUrls valid for the requested
SAS lifetime (v3.2 sasValidityInSeconds, 2024+ sasLifetimeMinutes; 12 hours by default)."""

from __future__ import annotations

from datetime import datetime, timedelta

from starlette.responses import Response

from local.speech_emulator.errors import invalid_request, not_found
from local.speech_emulator.filters import FILE_FIELDS, Record
from local.speech_emulator.isotime import whole_seconds
from local.speech_emulator.listing import parse_listing
from local.speech_emulator.materialise import ResultFile
from local.speech_emulator.pipeline import Call
from local.speech_emulator.render import json_response, render_file
from local.speech_emulator.store import Job
from local.speech_emulator.transcriptions import find_job, retry_after
from local.speech_emulator.versions import ApiVersion
from local.speech_emulator.wire import PaginatedFiles

DEFAULT_SAS_VALIDITY = timedelta(hours=12)
EXPIRED_SAS_AGE = timedelta(hours=1)


def _sas(call: Call) -> tuple[datetime, list[tuple[str, str]]]:
    """When the contentUrls handed out expire, and the SAS parameter that @nextLink must repeat."""
    name, unit = (
        ("sasValidityInSeconds", 1) if call.version is ApiVersion.V3_2 else ("sasLifetimeMinutes", 60)
    )
    raw = call.request.query_params.get(name)
    if raw is not None and (not raw.isdigit() or int(raw) == 0):
        raise invalid_request(
            f"The query parameter '{name}' must be a positive integer.", "InvalidSasValidityDuration"
        )
    lifetime = DEFAULT_SAS_VALIDITY if raw is None else timedelta(seconds=int(raw) * unit)
    expiry = call.now - EXPIRED_SAS_AGE if call.effects.expired_sas else call.now + lifetime
    return expiry, [] if raw is None else [(name, raw)]


async def _files(call: Call, job: Job) -> tuple[tuple[ResultFile, ...], dict[str, str] | None]:
    """A job's files: none (with Retry-After) until it has finished."""
    state = job.state(call.now)
    if not state.status.terminal:
        return (), retry_after(call, [state])
    return await call.state.materialiser.files(job, state), None


def _record(item: ResultFile) -> Record:
    return {"name": item.name, "kind": item.kind, "createdDateTime": whole_seconds(item.created)}


async def list_files(call: Call) -> Response:
    listing = parse_listing(call.request.query_params, FILE_FIELDS, call.state.config.default_page_size)
    expiry, sas_parameter = _sas(call)
    job = find_job(call)
    files, headers = await _files(call, job)
    page, more = listing.select(files, _record)
    body = PaginatedFiles(
        values=[
            render_file(job, item, call.urls, call.state.storage.url(item.location, expiry=expiry))
            for item in page
        ],
        next_link=listing.next_link(
            call.urls, call.urls.collection(f"/transcriptions/{job.id}/files"), sas_parameter
        )
        if more
        else None,
    )
    return json_response(body, headers=headers)


async def get_file(call: Call) -> Response:
    expiry, _ = _sas(call)
    job = find_job(call)
    files, _ = await _files(call, job)
    for item in files:
        if item.file_id == call.path("fileId"):
            return json_response(
                render_file(job, item, call.urls, call.state.storage.url(item.location, expiry=expiry))
            )
    raise not_found("file")

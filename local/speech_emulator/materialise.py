"""Turning a finished job into result blobs, once, when they are first needed.

plan_results is pure: which files a finished job has, where their blobs go and how to produce their bytes.
The Materialiser runs a plan in the thread pool (uploads block) and remembers the outcome per job, so
concurrent file listings share one upload and a seeded job costs nothing until someone asks for its files.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from starlette.concurrency import run_in_threadpool

from local.speech_emulator.inputs import InputAudio
from local.speech_emulator.isotime import format_timestamp
from local.speech_emulator.lifecycle import JobState
from local.speech_emulator.results import report_bytes, transcript_chunks, transcript_options
from local.speech_emulator.storage import BlobLocation, ResultStorage
from local.speech_emulator.store import Job, JobError
from local.speech_emulator.wire import ReportDetail

log = logging.getLogger(__name__)

TRANSCRIPTION = "Transcription"
TRANSCRIPTION_REPORT = "TranscriptionReport"
REPORT_NAME = "report.json"
_INPUT_FAILURE = JobError("InvalidData", "The recordings URI contains invalid data.")


@dataclass(frozen=True)
class ResultFile:
    """A File entity of a finished job, with the size of the blob actually written."""

    file_id: str
    name: str
    kind: str
    location: BlobLocation
    size: int
    created: datetime


@dataclass(frozen=True)
class PlannedFile:
    file_id: str
    name: str
    kind: str
    location: BlobLocation
    content: Callable[[], Iterable[bytes]]


def file_id(job_id: str, name: str) -> str:
    """Stable per job and file name, so a file keeps its id however often it is listed."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{job_id}/{name}"))


def _location(job: Job, suffix: str) -> BlobLocation:
    """Managed storage uses TranscriptionData/<id>_<suffix>.json; a caller's container gets the same name at
    its root."""
    destination = job.options.destination_container_url
    if destination is None:
        return BlobLocation(f"TranscriptionData/{job.id}_{suffix}.json")
    return BlobLocation(f"{job.id}_{suffix}.json", container_url=destination)


def _detail(audio: InputAudio, succeeded: bool, job_failure: JobError | None) -> ReportDetail:
    if succeeded:
        return ReportDetail(source=audio.source, status="Succeeded")
    failure = _INPUT_FAILURE if audio.knobs.fails or job_failure is None else job_failure
    return ReportDetail(
        source=audio.source, status="Failed", error_kind=failure.code, error_message=failure.message
    )


def plan_results(job: Job, state: JobState) -> list[PlannedFile]:
    """One Transcription file per succeeded input (in input order), then report.json."""
    timestamp = format_timestamp(state.last_action)
    succeeded = set(job.succeeded_inputs(state.status))
    planned: list[PlannedFile] = []
    details: list[ReportDetail] = []
    for index, audio in enumerate(job.inputs):
        details.append(_detail(audio, audio in succeeded, job.error(state.status)))
        if audio not in succeeded:
            continue
        options = transcript_options(
            job.options, audio.knobs, duration_milliseconds=job.created_with.in_query
        )
        planned.append(
            PlannedFile(
                file_id=file_id(job.id, audio.file_name),
                name=audio.file_name,
                kind=TRANSCRIPTION,
                location=_location(job, str(index)),
                content=partial(transcript_chunks, audio.source, timestamp, audio.knobs, options),
            )
        )
    report = report_bytes(details)
    planned.append(
        PlannedFile(
            file_id=file_id(job.id, REPORT_NAME),
            name=REPORT_NAME,
            kind=TRANSCRIPTION_REPORT,
            location=_location(job, "report"),
            content=lambda: [report],
        )
    )
    return planned


class Materialiser:
    def __init__(self, storage: ResultStorage) -> None:
        self._storage = storage
        self._written: dict[str, asyncio.Future[tuple[ResultFile, ...]]] = {}
        self._cleanups: set[asyncio.Task[None]] = set()

    def _write(self, planned: list[PlannedFile], created: datetime) -> tuple[ResultFile, ...]:
        return tuple(
            ResultFile(
                file_id=item.file_id,
                name=item.name,
                kind=item.kind,
                location=item.location,
                size=self._storage.write(item.location, item.content()),
                created=created,
            )
            for item in planned
        )

    def _settled(self, job_id: str, future: asyncio.Future[tuple[ResultFile, ...]]) -> None:
        """A failed upload is forgotten (and logged) so the next request tries again."""
        if future.cancelled() or future.exception() is not None:
            if self._written.get(job_id) is future:
                del self._written[job_id]
            if not future.cancelled():
                log.warning("writing results of %s failed: %r", job_id, future.exception())

    def start(self, job: Job, state: JobState) -> asyncio.Future[tuple[ResultFile, ...]]:
        """Begin writing a finished job's results unless that is done or under way."""
        future = self._written.get(job.id)
        if future is None:
            planned = plan_results(job, state)
            future = asyncio.ensure_future(run_in_threadpool(self._write, planned, state.last_action))
            self._written[job.id] = future
            future.add_done_callback(partial(self._settled, job.id))
        return future

    async def files(self, job: Job, state: JobState) -> tuple[ResultFile, ...]:
        # Shielded: one client giving up must not cancel an upload that other requests share.
        return await asyncio.shield(self.start(job, state))

    def discard(self, job_id: str) -> None:
        """Forget a deleted job and remove its managed blobs once any upload in flight has finished."""
        future = self._written.pop(job_id, None)
        if future is not None:
            task = asyncio.ensure_future(self._remove(future))
            self._cleanups.add(task)
            task.add_done_callback(self._cleanups.discard)

    async def _remove(self, future: asyncio.Future[tuple[ResultFile, ...]]) -> None:
        try:
            files = await future
        except Exception:
            return
        managed = [item.location.name for item in files if item.location.container_url is None]
        await run_in_threadpool(self._storage.delete_managed, managed)

    def clear(self) -> None:
        self._written.clear()

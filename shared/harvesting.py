"""The one harvest protocol, for every job kind. A kind plugs in what differs (how to observe the job in the
service, which files to fetch and how to render them, how to delete it); the steps and their order are here:

1. a job already Harvested is skipped; a manifest already written means a crash after it: record and stop;
2. observe the job in the service, or take the entity the request carries (from the poll's list page or a
   signed web hook, so the harvest's only Speech call is the file list), and record what it says; a 404,
   then or on the file list, means the job is gone: Missing, never an empty harvest;
3. not finished after all (an early web hook, a replay): back to Pending, the poll enqueues it when it is;
4. Harvesting, with a heartbeat in the ledger while the files are written (a harvest whose heartbeat stops
   died with its host, and the poll tick sends its request again: shared.states.is_lost);
5. the kind writes its files, each only if absent, so a redelivery resumes where a crash stopped; out of its
   time budget it stops cleanly and the job is queued again for its continuation;
6. manifest.json last (its presence means the job is complete), then Harvested in the ledger, and only then,
   with DELETE_AFTER_HARVEST, the job is deleted in the service.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from shared import layout, logs
from shared.destination import Destination, Written
from shared.ledger import Ledger
from shared.manifest import Manifest
from shared.notify import Notifier
from shared.queueing import HarvestQueue, HarvestRequest, RequestReason
from shared.records import UNREAD, Unread, decide_and_save
from shared.settings import Settings
from shared.speech import NotFoundError
from shared.states import (
    HEARTBEAT_EVERY,
    Decision,
    JobKind,
    JobRecord,
    LedgerState,
    Observation,
    continued,
    found_unfinished,
    harvest_finished,
    harvest_started,
    heartbeat,
    observe,
    went_missing,
)

_JSON = "application/json"
T = TypeVar("T")


class Outcome(StrEnum):
    HARVESTED = "harvested"
    ALREADY_HARVESTED = "already-harvested"
    CONTINUED = "continued"
    NOT_FINISHED = "not-finished"
    MISSING = "missing"


@dataclass(frozen=True)
class Found(Generic[T]):
    """A job as the service describes it now: what the ledger keeps, and the entity the kind writes from."""

    observation: Observation
    entity: T
    gone: str | None = None  # the service says the job was deleted: why it is Missing
    carried: dict[str, Any] | None = None  # the entity a continuation request carries (None: it asks again)

    @property
    def finished(self) -> bool:
        return self.observation.terminal


class JobSource(Protocol[T]):
    """What one job kind plugs into the harvest."""

    kind: JobKind

    def find(self, request: HarvestRequest) -> Found[T]:
        """The job in the service (or as the request carries it); NotFoundError when the service has no such
        job."""
        ...

    def write(
        self, job_id: str, found: Found[T], started: float, written: Mapping[str, Written]
    ) -> Manifest | None:
        """Write every file of the job (each only if absent) and return the manifest to write last; None when
        the time budget ran out first (`started` is when the harvest began, on the monotonic clock; `written`
        is what an earlier attempt left in the job's folder, by path). NotFoundError when the service no
        longer has the job's files (deleted since it was found)."""
        ...

    def delete(self, job_id: str) -> None: ...


@dataclass
class Harvest:
    """Runs the protocol for one request; exceptions mean "try again later" (see shared.failures)."""

    settings: Settings
    ledger: Ledger
    destination: Destination
    queue: HarvestQueue
    notifier: Notifier | None = None  # None: no NOTIFY_* target, so no transcript-ready events owed
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    monotonic: Callable[[], float] = time.monotonic
    heartbeat_every: float = HEARTBEAT_EVERY.total_seconds()

    def run(self, source: JobSource[Any], request: HarvestRequest) -> Outcome:
        started = self.monotonic()
        kind, job_id = source.kind, request.id
        record = self.ledger.get(kind, job_id)
        if record is not None and record.state is LedgerState.HARVESTED:
            logs.event(
                "harvest_skipped",
                kind=kind.value,
                id=job_id,
                reason="already harvested",
                request=request.reason.value,
            )
            return Outcome.ALREADY_HARVESTED
        manifest_path = layout.manifest_blob(self.settings.destination_prefix, kind, job_id)
        # What an earlier attempt wrote, the manifest included, in one listing of the job's folder.
        written = self.destination.folder(layout.job_folder(self.settings.destination_prefix, kind, job_id))
        existing_manifest = written.get(manifest_path)

        try:
            found = source.find(request)
        except NotFoundError:
            if existing_manifest is not None:
                self._finish(kind, job_id, record, manifest_path, "Deleted")
                return Outcome.ALREADY_HARVESTED
            self._missing(kind, job_id, record, "not found in the service when harvesting")
            return Outcome.MISSING

        now = self.clock()
        record = self._save(
            kind, job_id, lambda r: observe(r, found.observation, now, source="harvest"), record
        )
        status = found.observation.service_status
        if existing_manifest is not None:
            self._finish(kind, job_id, record, manifest_path, status)
            return Outcome.ALREADY_HARVESTED
        if found.gone is not None:
            self._missing(kind, job_id, record, found.gone)
            return Outcome.MISSING
        if not found.finished:
            self._save(kind, job_id, lambda r: found_unfinished(r, now, found.observation), record)
            logs.event("harvest_deferred", kind=kind.value, id=job_id, service_status=status)
            return Outcome.NOT_FINISHED

        record = self._save(
            kind, job_id, lambda r: harvest_started(r, self.clock(), kind=kind, job_id=job_id), record
        )
        try:
            with self._heartbeat(kind, job_id):
                manifest = source.write(job_id, found, started, written)
        except NotFoundError:
            self._missing(kind, job_id, None, "not found in the service when listing its files")
            return Outcome.MISSING
        if manifest is None:
            decide_and_save(
                self.ledger,
                kind,
                job_id,
                lambda r: continued(r, self.clock()),
                self.clock(),
                queue=self.queue,
                request_reason=RequestReason.CONTINUATION,
                entity=found.carried,
            )
            logs.event("harvest_continued", kind=kind.value, id=job_id)
            return Outcome.CONTINUED

        manifest_written = self.destination.write_bytes(manifest_path, manifest.to_json(), content_type=_JSON)
        # The row as this harvest left it: its ETag still holds unless a heartbeat wrote since (then the
        # conditional write fails and the row is read again), so finishing costs one write, not a read too.
        self._finish(kind, job_id, record, manifest_path, status)
        logs.event(
            "harvested",
            kind=kind.value,
            id=job_id,
            status=status,
            files=len(manifest.results),
            manifest=manifest_path,
            manifest_created=manifest_written.created,
            seconds=round(self.monotonic() - started, 3),
        )
        if self.settings.delete_after_harvest:
            source.delete(job_id)
            logs.event("deleted_in_service", kind=kind.value, id=job_id)
        return Outcome.HARVESTED

    # --- ledger steps, each one decide_and_save ----------------------------------------------------------

    def _save(
        self,
        kind: JobKind,
        job_id: str,
        decide: Callable[[JobRecord | None], Decision],
        first: JobRecord | Unread | None = UNREAD,
    ) -> JobRecord | None:
        def served(record: JobRecord | None) -> Decision:
            # A decision to enqueue the job's harvest (observing it finished) is served by this very harvest.
            return decide(record).model_copy(update={"enqueue": False})

        return decide_and_save(self.ledger, kind, job_id, served, self.clock(), first=first).record

    def _finish(
        self, kind: JobKind, job_id: str, first: JobRecord | None, manifest_path: str, status: str
    ) -> None:
        now = self.clock()
        owe = self.notifier is not None
        saved = self._save(
            kind,
            job_id,
            lambda r: harvest_finished(
                r, now, manifest_path, status, kind=kind, job_id=job_id, owe_event=owe
            ),
            first if first is not None else UNREAD,
        )
        if self.notifier is not None and saved is not None:
            self.notifier.publish_owed(saved)  # a failure leaves it owed: the poll tick publishes it

    def _missing(self, kind: JobKind, job_id: str, first: JobRecord | None, reason: str) -> None:
        now = self.clock()
        self._save(
            kind,
            job_id,
            lambda r: went_missing(r, now, reason, kind=kind, job_id=job_id),
            first if first is not None else UNREAD,
        )

    @contextlib.contextmanager
    def _heartbeat(self, kind: JobKind, job_id: str) -> Iterator[None]:
        """While the files are written, a thread records in the ledger that this harvest is alive."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.heartbeat_every):
                with contextlib.suppress(Exception):  # a missed beat only risks a harmless duplicate
                    self._save(kind, job_id, lambda r: heartbeat(r, self.clock()))

        thread = threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

"""The transcription's part of the harvest protocol (shared.harvesting runs the steps and the ledger):
every result file and the report into the destination.

transcription.json first, then for each file (sorted by name, the report last) its derived transcripts and
then its raw copy, each written only if absent (If-None-Match: *), so a redelivery resumes where a crash
stopped and a concurrent duplicate writes nothing twice. Past HARVEST_TIME_BUDGET_SECONDS it stops between
files, and the protocol enqueues the continuation.
"""

from __future__ import annotations

import contextvars
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

from pydantic import ValidationError

from shared import layout, logs
from shared.content import ContentError, ContentExpiredError, ContentReader
from shared.destination import Destination, Written
from shared.harvesting import Found, Harvest, Outcome
from shared.inorder import InOrder, OrderBrokenError
from shared.ledger import Ledger
from shared.manifest import (
    BlobEntry,
    DerivedEntry,
    JobError,
    Manifest,
    ReportFailure,
    ReportSummary,
    ResultEntry,
    Validation,
)
from shared.notify import Notifier
from shared.observations import observation_of
from shared.queueing import HarvestQueue, HarvestRequest
from shared.redact import scrub_json, strip_sas
from shared.settings import Settings
from shared.speech import SpeechClient, Transcription, TranscriptionFile, TranscriptionReport
from shared.states import HEARTBEAT_EVERY, JobKind
from shared.transcripts.beside import DeriveBeside
from shared.transcripts.derive import Deriver
from shared.transcripts.naming import transcript_stem

REPORT_KIND = "TranscriptionReport"
RESULT_KIND = "Transcription"
MAX_REFRESHES = 3
_JSON = "application/json"


def stored_name(file: TranscriptionFile) -> str:
    """The name a result file is kept under: its own, or, when the service listed it without one, its id
    (the last segment of its `self` link), so it is still harvested rather than crashing the harvest."""
    if file.name:
        return file.name
    try:
        return file.id
    except ValueError:
        return "unnamed"


def header_safe(text: str) -> str:
    """Blob metadata travels in HTTP headers: ASCII only, so non-ASCII names are percent-encoded."""
    return quote(text, safe=" !#$&'()*+,-./:;=?@[]^_`{|}~")


@dataclass
class Harvester:
    settings: Settings
    speech: SpeechClient
    ledger: Ledger
    destination: Destination
    queue: HarvestQueue
    content: ContentReader
    notifier: Notifier | None = None  # publishes the transcript-ready event once Harvested
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    monotonic: Callable[[], float] = time.monotonic
    heartbeat_every: float = HEARTBEAT_EVERY.total_seconds()

    kind = JobKind.TRANSCRIPTION

    @property
    def prefix(self) -> str:
        return self.settings.destination_prefix

    def harvest(self, request: HarvestRequest) -> Outcome:
        """Harvest one transcription through the one harvest protocol (shared.harvesting)."""
        steps = Harvest(
            self.settings,
            self.ledger,
            self.destination,
            self.queue,
            notifier=self.notifier,
            clock=self.clock,
            monotonic=self.monotonic,
            heartbeat_every=self.heartbeat_every,
        )
        return steps.run(self, request)

    # --- the job kind's part of the protocol --------------------------------------------------------------

    def find(self, request: HarvestRequest) -> Found[Transcription]:
        """The entity the request carries (the poll's list page, a signed web hook, a continuation), else one
        GET; either way, listing the files is then the harvest's only other Speech call."""
        carried = request.entity
        if carried is not None:
            transcription = Transcription.model_validate(carried)
        else:
            transcription = self.speech.get_transcription(request.id)
            carried = scrub_json(transcription.wire)
        return Found(observation_of(transcription), transcription, carried=carried)

    def write(
        self, job_id: str, found: Found[Transcription], started: float, written: Mapping[str, Written]
    ) -> Manifest | None:
        """The file list (404: the job is gone, before anything is written), transcription.json, then each
        file's transcripts and raw copy; the manifest to write last."""
        transcription = found.entity
        files = self._list_files(job_id)
        entity = self._write_entity(job_id, transcription)
        results, report_summary, finished = self._harvest_files(
            job_id, files, started, transcription.locale, written
        )
        if not finished:
            return None
        return self._manifest(job_id, transcription, entity, results, report_summary)

    def delete(self, job_id: str) -> None:
        self.speech.delete_transcription(job_id)

    # --- files --------------------------------------------------------------------------------------------

    def _write_entity(self, job_id: str, transcription: Transcription) -> Written:
        body = json.dumps(scrub_json(transcription.wire), indent=2, ensure_ascii=False).encode("utf-8")
        path = layout.entity_blob(self.prefix, job_id)
        return self.destination.write_bytes(
            path, body, content_type=_JSON, metadata={"transcriptionid": job_id}
        )

    def _list_files(self, job_id: str) -> list[TranscriptionFile]:
        files = list(self.speech.list_files(job_id, sas_validity_seconds=self.settings.sas_validity_seconds))
        return sorted(files, key=lambda f: (f.kind == REPORT_KIND, stored_name(f)))

    def _harvest_files(
        self,
        job_id: str,
        files: list[TranscriptionFile],
        started: float,
        locale: str | None,
        written: Mapping[str, Written],
    ) -> tuple[list[ResultEntry], ReportSummary | None, bool]:
        """Up to HARVEST_FILE_CONCURRENCY files at once, started in file order; a file's stem is still taken in
        file order (shared.inorder). Out of the time budget, no further file starts: those under way finish,
        so the files done are always the first ones, and the continuation reuses them."""
        # Names that clean alike still get a blob each, the same ones on every redelivery or continuation.
        job = _JobFiles(
            job_id,
            _Listing(files, lambda: self._list_files(job_id)),
            # Names that clean alike still get a blob each, the same ones on every redelivery or continuation.
            layout.raw_blobs(self.prefix, JobKind.TRANSCRIPTION, job_id, map(stored_name, files)),
            locale,
            written,
        )
        done: dict[int, tuple[ResultEntry, ReportSummary | None]] = {}
        limit = self.settings.harvest_file_concurrency
        finished = True

        def one(index: int) -> None:
            try:
                done[index] = self._harvest_file(job, index)
            except BaseException:
                job.order.abort()
                raise

        errors: list[BaseException] = []

        def settle(futures: set[Future[None]]) -> None:
            errors.extend(error for future in futures if (error := future.exception()) is not None)

        with ThreadPoolExecutor(limit, thread_name_prefix=f"harvest-{job_id[:8]}") as pool:
            running: set[Future[None]] = set()
            try:
                for index in range(len(files)):
                    if index and self.monotonic() - started > self.settings.harvest_time_budget_seconds:
                        finished = False
                        break
                    if len(running) >= limit:
                        completed, running = wait(running, return_when=FIRST_COMPLETED)
                        settle(completed)
                        if errors:
                            break
                    # Each file runs in the invocation's context: its trace, its Speech-call meter.
                    running.add(pool.submit(contextvars.copy_context().run, one, index))
            finally:
                completed, _ = wait(running)
            settle(completed)
        if errors:
            # The files after a failed one give up waiting for their turn (OrderBrokenError); the failure that
            # says what happened, and decides retry, poison or Missing, is the first file's own.
            raise next((e for e in errors if not isinstance(e, OrderBrokenError)), errors[0])
        results = [done[index][0] for index in sorted(done)]
        reports = [done[index][1] for index in sorted(done) if done[index][1] is not None]
        return results, reports[-1] if reports else None, finished

    def _harvest_file(self, job: _JobFiles, index: int) -> tuple[ResultEntry, ReportSummary | None]:
        while True:
            file = job.listing.current(index)
            try:
                return self._harvest_one(job, index, file)
            except ContentExpiredError as error:
                logs.event("sas_refresh", id=job.job_id, file=stored_name(file), error=str(error))
                job.listing.refresh(index, file)

    def _harvest_one(
        self, job: _JobFiles, index: int, file: TranscriptionFile
    ) -> tuple[ResultEntry, ReportSummary | None]:
        name = stored_name(file)
        raw_path = job.raw_paths[name]
        previous = job.written.get(raw_path)
        if previous is not None and file.kind != REPORT_KIND:
            reused = self._reuse(job.job_id, file, previous, job.written)
            if reused is not None:
                entry, stem = reused
                with job.order.turn(index):
                    if stem:
                        job.taken.add(stem)
                return entry, None
        url = file.content_url
        if not url:
            raise ContentError(f"{name}: the service gave no contentUrl")
        metadata = {"transcriptionid": job.job_id, "sourcefile": header_safe(name), "kind": file.kind or ""}
        if file.kind == REPORT_KIND:
            report = self._harvest_report(raw_path, url, metadata, file)
            with job.order.turn(index):
                return report
        return self._harvest_result(
            job.job_id,
            file,
            raw_path=raw_path,
            url=url,
            metadata=metadata,
            stem_turn=lambda source: job.stem(index, source, name),
            locale=job.locale,
        ), None

    def _harvest_report(
        self, raw_path: str, url: str, metadata: dict[str, str], file: TranscriptionFile
    ) -> tuple[ResultEntry, ReportSummary | None]:
        with self.content.open(url) as chunks:
            data = b"".join(chunks)
        written = self.destination.write_bytes(raw_path, data, content_type=_JSON, metadata=metadata)
        summary, validation = summarize_report(data)
        entry = ResultEntry(
            name=stored_name(file),
            kind=file.kind,
            source=None,
            blob=raw_path,
            size=written.size,
            sha256=written.sha256,
            validation=validation,
        )
        return entry, summary

    def _harvest_result(
        self,
        job_id: str,
        file: TranscriptionFile,
        *,
        raw_path: str,
        url: str,
        metadata: dict[str, str],
        stem_turn: Callable[[str | None], str],
        locale: str | None,
    ) -> ResultEntry:
        parse = file.kind == RESULT_KIND
        formats = self.settings.output_formats if parse else frozenset()
        # The Deriver's spool and outputs are anonymous temporary files (gone when closed, even after a crash):
        # no directory of their own per file, which cost a mkdir and an rmtree per file.
        with Deriver(formats=formats, channel_labels=self.settings.channel_labels, locale=locale) as deriver:
            # The derivation runs in a thread of its own while this one waits on the download and upload.
            with DeriveBeside(deriver) as beside, self.content.open(url) as chunks:
                raw = self.destination.stage(
                    raw_path, _tee(chunks, beside.feed if parse else None), content_type=_JSON
                )
                derived = beside.finish()
            outcome = derived.outcome
            source = strip_sas(outcome.source) if outcome.source else None
            source_header = header_safe(source or "")
            # The stem waits for the earlier files' (file order); a file that is not a result takes its turn too.
            stem: str | None = stem_turn(outcome.source)
            if not parse:
                stem = None
            transcripts: list[DerivedEntry] = []
            for output in derived.outputs:
                path = layout.transcript_blob(
                    self.prefix, JobKind.TRANSCRIPTION, job_id, stem or "", output.extension
                )
                written = self.destination.write(
                    path,
                    output.chunks(),
                    content_type=output.content_type,
                    metadata={**metadata, "source": source_header},
                )
                transcripts.append(
                    DerivedEntry(format=output.extension, blob=path, size=written.size, sha256=written.sha256)
                )
            raw_meta = {**metadata, "stem": stem or "", "valid": str(outcome.valid).lower()}
            if source:
                raw_meta["source"] = source_header
            committed = raw.commit(raw_meta)
        validation = (
            Validation(valid=outcome.valid, problems=outcome.problems[:20])
            if parse
            else Validation(valid=True)
        )
        return ResultEntry(
            name=stored_name(file),
            kind=file.kind,
            source=source,
            blob=raw_path,
            size=committed.size,
            sha256=committed.sha256,
            validation=validation,
            transcripts=sorted(transcripts, key=lambda t: t.format),
        )

    def _reuse(
        self, job_id: str, file: TranscriptionFile, raw: Written, written: Mapping[str, Written]
    ) -> tuple[ResultEntry, str | None] | None:
        """A raw copy exists (it is committed after its transcripts): rebuild the entry without downloading;
        with the stem it took, which the caller marks taken in file order."""
        stem = raw.metadata.get("stem") or None
        transcripts: list[DerivedEntry] = []
        if stem:
            for extension in sorted(self.settings.output_formats):
                path = layout.transcript_blob(self.prefix, JobKind.TRANSCRIPTION, job_id, stem, extension)
                found = written.get(path)
                if found is None:
                    return None
                transcripts.append(
                    DerivedEntry(format=extension, blob=path, size=found.size, sha256=found.sha256)
                )
        source = raw.metadata.get("source")
        entry = ResultEntry(
            name=stored_name(file),
            kind=file.kind,
            source=source or None,
            blob=raw.path,
            size=raw.size,
            sha256=raw.sha256,
            validation=Validation(valid=raw.metadata.get("valid", "true") == "true"),
            transcripts=sorted(transcripts, key=lambda t: t.format),
        )
        return entry, stem

    def _manifest(
        self,
        job_id: str,
        transcription: Transcription,
        entity: Written,
        results: list[ResultEntry],
        report: ReportSummary | None,
    ) -> Manifest:
        error = transcription.error
        return Manifest(
            kind=JobKind.TRANSCRIPTION.value,
            id=job_id,
            api_version=self.settings.speech_api_version,
            status=str(transcription.status),
            display_name=transcription.display_name,
            locale=transcription.locale,
            created_date_time=transcription.created_date_time,
            finished_date_time=transcription.last_action_date_time,
            audio_duration_seconds=transcription.duration_seconds,
            error=JobError(code=error.code, message=error.message) if error is not None else None,
            entity=BlobEntry(blob=entity.path, size=entity.size, sha256=entity.sha256),
            results=results,
            report=report,
            harvested_at=self.clock(),
        )


def _tee(chunks: Iterator[bytes], sink: Callable[[bytes], None] | None) -> Iterator[bytes]:
    for chunk in chunks:
        if sink is not None:
            sink(chunk)
        yield chunk


def summarize_report(data: bytes) -> tuple[ReportSummary | None, Validation]:
    """Parse report.json with the wire model; an unreadable report is still kept raw and flagged."""
    try:
        report = TranscriptionReport.model_validate_json(data)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or 'report'}: {e['msg']}" for e in error.errors()[:20]
        ]
        return None, Validation(valid=False, problems=problems)
    failures = [
        ReportFailure(
            source=strip_sas(detail.source) if detail.source else None,
            error_kind=detail.error_kind,
            error_message=detail.error_message,
        )
        for detail in report.details or []
        if (detail.status or "").lower() != "succeeded"
    ]
    summary = ReportSummary(
        successful_transcriptions_count=report.successful_transcriptions_count,
        failed_transcriptions_count=report.failed_transcriptions_count,
        failures=failures,
    )
    return summary, Validation(valid=True)


@dataclass
class _JobFiles:
    """What the files of one job harvested at once share: the file list, their raw blob names, the stems
    taken so far (in file order) and the turnstile that keeps that order."""

    job_id: str
    listing: _Listing
    raw_paths: dict[str, str]
    locale: str | None
    written: Mapping[str, Written]  # the job's blobs when the harvest began, by path
    taken: set[str] = field(default_factory=set)
    order: InOrder = field(default_factory=InOrder)

    def stem(self, index: int, source: str | None, name: str) -> str:
        """The transcript stem of file `index`, once every earlier file has taken its own."""
        with self.order.turn(index):
            return transcript_stem(source, name, self.taken)


class _Listing:
    """The job's file list, shared by the files harvested at once: when a contentUrl's SAS has expired, the
    first file to notice lists the files again for fresh URLs (at most MAX_REFRESHES times a harvest); the
    others pick the fresh URLs up."""

    def __init__(self, files: list[TranscriptionFile], relist: Callable[[], list[TranscriptionFile]]) -> None:
        self._files = list(files)
        self._relist = relist
        self._refreshes = 0
        self._lock = threading.Lock()

    def current(self, index: int) -> TranscriptionFile:
        with self._lock:
            return self._files[index]

    def refresh(self, index: int, expired: TranscriptionFile) -> None:
        with self._lock:
            if self._files[index] is not expired:
                return  # another file refreshed the list since this one read its URL
            self._refreshes += 1
            if self._refreshes > MAX_REFRESHES:
                raise ContentExpiredError(
                    f"{stored_name(expired)}: the SAS kept expiring after {MAX_REFRESHES} refreshes"
                )
            fresh = {stored_name(f): f for f in self._relist()}
            if stored_name(expired) not in fresh:
                raise ContentExpiredError(f"{stored_name(expired)}: no longer in the file list")
            self._files = [fresh.get(stored_name(f), f) for f in self._files]

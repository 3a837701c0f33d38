"""Asynchronous conversation transcription: track a conversation, poll it, harvest it.

- `POST /api/conversations/{id}` tracks a conversation (ledger kind conversation, Pending, tracked).
- The poll timer asks `offlinetask?id=` about tracked Pending conversations, at most
  CONVERSATION_POLLS_PER_TICK of them per tick, the least recently checked first, so a long list is worked
  through in turns and no conversation waits forever. Completed or Failed → Queued and one harvest request
  (the same ETag-guarded step as transcriptions); 404 or Deleted → Missing.
- The harvest writes `<prefix>conversations/<id>/raw/offlinetask.json` (the GET body, byte-exact), then
  `transcript/<id>.json|txt|srt|vtt` through the same renderers as batch transcripts, then manifest.json last.
  Writes are conditional and the ledger guards the rest, exactly as for transcriptions (shared/harvest.py).

The endpoint is CONVERSATION_ENDPOINT, else derived from the Speech resource's region; without either the
features are off (the API answers 409 and the timer skips the poll).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from shared import layout, logs
from shared.destination import Destination
from shared.failures import PermanentError
from shared.harvest import Outcome
from shared.ledger import Ledger
from shared.manifest import DerivedEntry, JobError, Manifest, ResultEntry, Validation
from shared.poll import apply_observation
from shared.queueing import HarvestQueue, HarvestRequest, RequestReason
from shared.records import record_harvested, record_missing, save_change, update_record
from shared.redact import redact_text
from shared.replies import ApiModel, Reply, error_reply, json_reply
from shared.settings import Settings
from shared.speech import (
    ConversationClient,
    NotFoundError,
    OfflineTask,
    ProcessingStatus,
    SpeechError,
    ThrottledError,
)
from shared.states import (
    OPEN_STATES,
    JobKind,
    JobRecord,
    LedgerState,
    Observation,
    harvest_started,
    needs_requeue,
    observe,
    reopened,
    requeued,
    track,
    went_missing,
)
from shared.submission import status_url
from shared.transcripts.derive import derive_from_phrases
from shared.transcripts.model import Phrase, TranscriptHeader
from shared.transcripts.timing import ticks_to_seconds

RAW_NAME = "offlinetask.json"
RAW_KIND = "ConversationTranscription"
OFF_MESSAGE = (
    "conversation transcription is off: set CONVERSATION_ENDPOINT, or SPEECH_REGION, or a regional "
    "SPEECH_ENDPOINT (https://<region>.api.cognitive.microsoft.com) so its endpoint can be derived"
)
_KIND = JobKind.CONVERSATION
_JSON = "application/json"
_HARVESTABLE = (ProcessingStatus.COMPLETED.value, ProcessingStatus.FAILED.value)


class ConversationsOffError(PermanentError):
    """A conversation request arrived but no conversation endpoint is configured or derivable."""

    def __init__(self) -> None:
        super().__init__(OFF_MESSAGE)


def service_status(task: OfflineTask) -> str:
    return str(task.processing_status) if task.processing_status is not None else "Unknown"


# --- tracking (POST /api/conversations/{id}) ---------------------------------------------------------------


class Tracked(ApiModel):
    id: str
    state: str
    status_url: str


def track_conversation(conversation_id: str, ledger: Ledger, *, enabled: bool, now: datetime) -> Reply:
    """Start following a conversation; tracking one again is harmless, and re-opens one that went Missing."""
    if not enabled:
        return error_reply(409, "ConversationsOff", OFF_MESSAGE)
    try:
        conversation_id = layout.validate_job_id(_KIND, conversation_id)
    except ValueError as error:
        return error_reply(400, "InvalidRequest", str(error), field="conversationId")

    def change(record: JobRecord | None) -> JobRecord:
        return reopened(track(record, _KIND, conversation_id, now, source="track"))

    saved = update_record(ledger, _KIND, conversation_id, change, now, source="track")
    assert saved is not None
    url = status_url(_KIND, conversation_id)
    logs.event("conversation_tracked", id=conversation_id, state=saved.state.value)
    return json_reply(
        202, Tracked(id=conversation_id, state=saved.state.value, status_url=url), {"Location": url}
    )


# --- polling -----------------------------------------------------------------------------------------------


@dataclass
class ConversationTickReport:
    checked: int = 0
    enqueued: int = 0
    missing: int = 0
    errors: int = 0
    requeued: int = 0
    waiting: int = 0  # tracked Pending conversations left for later ticks
    enqueued_ids: list[str] = field(default_factory=list)


def due_for_check(records: Iterable[JobRecord], limit: int) -> list[JobRecord]:
    """Tracked Pending conversations to ask about now: never checked first, then the least recently checked."""
    pending = [r for r in records if r.tracked and r.state is LedgerState.PENDING]
    oldest = datetime.min.replace(tzinfo=UTC)
    pending.sort(key=lambda r: (r.last_checked or oldest, r.first_seen, r.id))
    return pending[:limit]


@dataclass
class ConversationPoller:
    settings: Settings
    client: ConversationClient
    ledger: Ledger
    queue: HarvestQueue
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def tick(self) -> ConversationTickReport:
        report = ConversationTickReport()
        now = self.clock()
        records = list(self.ledger.query(_KIND, OPEN_STATES))
        self._requeue_lost(records, now, report)
        due = due_for_check(records, self.settings.conversation_polls_per_tick)
        report.waiting = sum(1 for r in records if r.tracked and r.state is LedgerState.PENDING) - len(due)
        for record in due:
            try:
                self._check(record, now, report)
            except ThrottledError as error:
                report.errors += 1
                logs.event("conversation_poll_throttled", logging.WARNING, id=record.id, error=str(error))
                break  # the rest wait for the next tick rather than hammer a throttled service
            except SpeechError as error:
                report.errors += 1
                self._checked_with_error(record.id, now, error)
        logs.event(
            "conversation_poll",
            checked=report.checked,
            enqueued=report.enqueued,
            missing=report.missing or None,
            errors=report.errors or None,
            requeued=report.requeued or None,
            waiting=report.waiting or None,
        )
        return report

    def _check(self, record: JobRecord, now: datetime, report: ConversationTickReport) -> None:
        report.checked += 1
        try:
            task = self.client.get(record.id)
        except NotFoundError:
            self._missing(record.id, now, "Unknown", "not found in the conversation service (404)")
            report.missing += 1
            return
        status = service_status(task)
        if status == ProcessingStatus.DELETED.value:
            self._missing(record.id, now, status, "deleted in the conversation service")
            report.missing += 1
            return
        seen = Observation(kind=_KIND, id=record.id, service_status=status, last_checked=now)
        if apply_observation(self.ledger, self.queue, seen, now, reason=RequestReason.POLL, source="poll"):
            report.enqueued += 1
            report.enqueued_ids.append(record.id)

    def _missing(self, conversation_id: str, now: datetime, status: str, reason: str) -> None:
        def change(record: JobRecord | None) -> JobRecord | None:
            if record is None or record.state is not LedgerState.PENDING:
                return None
            checked = record.model_copy(update={"service_status": status, "last_checked": now})
            return went_missing(checked, reason)

        update_record(self.ledger, _KIND, conversation_id, change, now, source="poll")

    def _checked_with_error(self, conversation_id: str, now: datetime, error: SpeechError) -> None:
        """Remember the failed check, so a conversation that always fails does not stay first in line."""
        message = redact_text(str(error))
        logs.event("conversation_poll_error", logging.WARNING, id=conversation_id, error=message)

        def change(record: JobRecord | None) -> JobRecord | None:
            if record is None or record.state is not LedgerState.PENDING:
                return None
            return record.model_copy(update={"last_checked": now, "detail": message[:1000]})

        update_record(self.ledger, _KIND, conversation_id, change, now)

    def _requeue_lost(self, records: list[JobRecord], now: datetime, report: ConversationTickReport) -> None:
        """A harvest request lost between the ledger and the queue is sent again (as for transcriptions)."""
        after = timedelta(minutes=self.settings.requeue_after_minutes)
        for record in records:
            if not needs_requeue(record, now, after):
                continue
            lost = False

            def change(current: JobRecord | None) -> JobRecord | None:
                nonlocal lost
                lost = current is not None and needs_requeue(current, now, after)
                return requeued(current, now) if current is not None and lost else None

            update_record(self.ledger, _KIND, record.id, change, now, reason="requeue")
            if lost:
                self.queue.send(HarvestRequest(kind=_KIND, id=record.id, reason=RequestReason.REQUEUE))
                report.requeued += 1


# --- harvest -----------------------------------------------------------------------------------------------


def conversation_phrases(task: OfflineTask) -> list[Phrase]:
    """Phrases in time order: each recognised utterance, its user id as the speaker; empty ones are skipped."""
    phrases = []
    for utterance in task.transcriptions or []:
        text = (utterance.text or "").strip()
        if not text or utterance.offset_in_ticks is None:
            continue
        start = ticks_to_seconds(utterance.offset_in_ticks)
        end = ticks_to_seconds(utterance.offset_in_ticks + (utterance.duration_in_ticks or 0))
        phrases.append(Phrase(start=start, end=end, speaker=utterance.user_id, display=text, lexical=text))
    phrases.sort(key=lambda p: (p.start, p.speaker or ""))
    return phrases


def conversation_header(phrases: list[Phrase]) -> TranscriptHeader:
    speakers = list(dict.fromkeys(p.speaker for p in phrases if p.speaker is not None))
    duration = max((p.end for p in phrases), default=None)
    return TranscriptHeader(kind="conversation", duration_seconds=duration, speakers=speakers)


def utterance_problems(task: OfflineTask) -> list[str]:
    """Utterances with text that cannot be placed in time (they are left out of the transcripts)."""
    return [
        f"transcriptions[{index}]: text without offsetInTicks"
        for index, utterance in enumerate(task.transcriptions or [])
        if (utterance.text or "").strip() and utterance.offset_in_ticks is None
    ][:20]


@dataclass
class ConversationHarvester:
    settings: Settings
    client: ConversationClient
    ledger: Ledger
    destination: Destination
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    @property
    def prefix(self) -> str:
        return self.settings.destination_prefix

    def harvest(self, request: HarvestRequest) -> Outcome:
        """Harvest one conversation; exceptions mean "try again later" (the queue redelivers)."""
        conversation_id = request.id
        record = self.ledger.get(_KIND, conversation_id)
        if record is not None and record.state is LedgerState.HARVESTED:
            logs.event("harvest_skipped", kind=_KIND.value, id=conversation_id, reason="already harvested")
            return Outcome.ALREADY_HARVESTED
        manifest_path = layout.manifest_blob(self.prefix, _KIND, conversation_id)
        existing_manifest = self.destination.find(manifest_path)
        try:
            task, raw = self.client.get_raw(conversation_id)
        except NotFoundError:
            if existing_manifest is not None:
                self._finish(record, conversation_id, manifest_path, ProcessingStatus.DELETED.value)
                return Outcome.ALREADY_HARVESTED
            self._missing(record, conversation_id, "not found in the conversation service when harvesting")
            return Outcome.MISSING

        status = service_status(task)
        record = self._observe(record, conversation_id, status)
        if existing_manifest is not None:
            self._finish(record, conversation_id, manifest_path, status)
            return Outcome.ALREADY_HARVESTED
        if status == ProcessingStatus.DELETED.value:
            self._missing(record, conversation_id, "deleted in the conversation service before the harvest")
            return Outcome.MISSING
        if status not in _HARVESTABLE:
            # Not finished after all: back to Pending, so the poller keeps asking.
            save_change(
                self.ledger, record.model_copy(update={"state": LedgerState.PENDING}), record, self.clock()
            )
            logs.event("harvest_deferred", kind=_KIND.value, id=conversation_id, service_status=status)
            return Outcome.NOT_FINISHED

        record = save_change(self.ledger, harvest_started(record, self.clock()), record, self.clock())
        manifest = self._write(conversation_id, task, raw, status)
        self.destination.write_bytes(manifest_path, manifest.to_json(), content_type=_JSON)
        self._finish(record, conversation_id, manifest_path, status)
        logs.event("harvested", kind=_KIND.value, id=conversation_id, status=status, manifest=manifest_path)
        if self.settings.delete_after_harvest:
            self.client.delete(conversation_id)
            logs.event("deleted_in_service", kind=_KIND.value, id=conversation_id)
        return Outcome.HARVESTED

    def _write(self, conversation_id: str, task: OfflineTask, raw: bytes, status: str) -> Manifest:
        """offlinetask.json byte-exact, then the transcripts (Completed only); returns the manifest to write."""
        metadata = {"conversationid": conversation_id, "kind": RAW_KIND}
        raw_path = layout.raw_blob(self.prefix, _KIND, conversation_id, RAW_NAME)
        written = self.destination.write_bytes(raw_path, raw, content_type=_JSON, metadata=metadata)
        completed = status == ProcessingStatus.COMPLETED.value
        phrases = conversation_phrases(task) if completed else []
        header = conversation_header(phrases)
        transcripts: list[DerivedEntry] = []
        if completed:
            outputs = derive_from_phrases(
                header, phrases, formats=self.settings.output_formats, channel_labels={}
            )
            for output in outputs:
                path = layout.transcript_blob(
                    self.prefix, _KIND, conversation_id, conversation_id, output.extension
                )
                blob = self.destination.write(
                    path, output.chunks(), content_type=output.content_type, metadata=metadata
                )
                transcripts.append(
                    DerivedEntry(format=output.extension, blob=path, size=blob.size, sha256=blob.sha256)
                )
        problems = utterance_problems(task)
        result = ResultEntry(
            name=RAW_NAME,
            kind=RAW_KIND,
            blob=raw_path,
            size=written.size,
            sha256=written.sha256,
            validation=Validation(valid=not problems, problems=problems),
            transcripts=sorted(transcripts, key=lambda t: t.format),
        )
        return Manifest(
            kind=_KIND.value,
            id=conversation_id,
            status=status,
            audio_duration_seconds=header.duration_seconds,
            error=None
            if completed
            else JobError(code=status, message="the conversation service reported processingStatus Failed"),
            results=[result],
            harvested_at=self.clock(),
        )

    def _observe(self, record: JobRecord | None, conversation_id: str, status: str) -> JobRecord:
        now = self.clock()
        seen = Observation(kind=_KIND, id=conversation_id, service_status=status, last_checked=now)
        decision = observe(record, seen, now, source="harvest")
        if decision.record is None:
            assert record is not None
            return record
        return save_change(self.ledger, decision.record, record, now)

    def _finish(
        self, record: JobRecord | None, conversation_id: str, manifest_path: str, status: str
    ) -> None:
        record_harvested(
            self.ledger,
            record,
            kind=_KIND,
            job_id=conversation_id,
            manifest_path=manifest_path,
            status=status,
            now=self.clock(),
        )

    def _missing(self, record: JobRecord | None, conversation_id: str, reason: str) -> None:
        record_missing(
            self.ledger, record, kind=_KIND, job_id=conversation_id, reason=reason, now=self.clock()
        )

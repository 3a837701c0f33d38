"""Asynchronous conversation transcription: track a conversation, poll it, harvest it.

- `POST /api/conversations/{id}` tracks a conversation (ledger kind conversation, Pending, tracked).
- The poll timer asks `offlinetask?id=` about tracked Pending conversations, at most
  CONVERSATION_POLLS_PER_TICK of them per tick, the least recently checked first, so a long list is worked
  through in turns and no conversation waits forever. Completed or Failed → Queued and one harvest request
  (the same ETag-guarded step as transcriptions); 404 or Deleted → Missing.
- The harvest is the one protocol (shared.harvesting); this kind writes
  `<prefix>conversations/<id>/raw/offlinetask.json` (the GET body, byte-exact), then
  `transcript/<id>.json|txt|srt|vtt` through the same renderers as batch transcripts; manifest.json comes last.

The endpoint is CONVERSATION_ENDPOINT, else derived from the Speech resource's region; without either the
features are off (the API answers 409 and the timer skips the poll).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from shared import layout, logs
from shared.destination import Destination, Written
from shared.failures import PermanentError
from shared.harvesting import Found, Harvest, Outcome
from shared.ledger import Ledger
from shared.manifest import DerivedEntry, JobError, Manifest, ResultEntry, Validation
from shared.notify import Notifier
from shared.observations import conversation_observation, conversation_status
from shared.queueing import HarvestQueue, HarvestRequest, RequestReason
from shared.records import apply_observation, decide_and_save, resend_lost
from shared.redact import redact_text
from shared.replies import ApiModel, Reply, error_reply, json_reply, status_url
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
    checked_with_error,
    tracked,
    went_missing,
)
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


class ConversationsOffError(PermanentError):
    """A conversation request arrived but no conversation endpoint is configured or derivable."""

    def __init__(self) -> None:
        super().__init__(OFF_MESSAGE)


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

    saved = decide_and_save(
        ledger,
        _KIND,
        conversation_id,
        lambda record: tracked(record, _KIND, conversation_id, now, source="track"),
        now,
        source="track",
    ).record
    if saved is None:
        raise RuntimeError(f"conversation {conversation_id}: the ledger kept no row after tracking it")
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
        after = timedelta(minutes=self.settings.requeue_after_minutes)
        report.requeued = len(resend_lost(self.ledger, self.queue, _KIND, now, after=after, records=records))
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
        status = conversation_status(task)
        if status == ProcessingStatus.DELETED.value:
            self._missing(record.id, now, status, "deleted in the conversation service")
            report.missing += 1
            return
        seen = conversation_observation(record.id, task, now)
        saved = apply_observation(
            self.ledger, self.queue, seen, now, reason=RequestReason.POLL, source="poll"
        )
        if saved is not None and saved.decision.enqueue:
            report.enqueued += 1
            report.enqueued_ids.append(record.id)

    def _missing(self, conversation_id: str, now: datetime, status: str, reason: str) -> None:
        decide_and_save(
            self.ledger,
            _KIND,
            conversation_id,
            lambda record: went_missing(
                record, now, reason, kind=_KIND, job_id=conversation_id, service_status=status, create=False
            ),
            now,
            source="poll",
        )

    def _checked_with_error(self, conversation_id: str, now: datetime, error: SpeechError) -> None:
        """Remember the failed check, so a conversation that always fails does not stay first in line."""
        message = redact_text(str(error))
        logs.event("conversation_poll_error", logging.WARNING, id=conversation_id, error=message)
        decide_and_save(
            self.ledger, _KIND, conversation_id, lambda record: checked_with_error(record, now, message), now
        )


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
    queue: HarvestQueue
    notifier: Notifier | None = None  # publishes the transcript-ready event once Harvested
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    kind = _KIND

    @property
    def prefix(self) -> str:
        return self.settings.destination_prefix

    def harvest(self, request: HarvestRequest) -> Outcome:
        """Harvest one conversation through the one harvest protocol (shared.harvesting)."""
        steps = Harvest(
            self.settings, self.ledger, self.destination, self.queue, notifier=self.notifier, clock=self.clock
        )
        return steps.run(self, request)

    # --- the job kind's part of the protocol --------------------------------------------------------------

    def find(self, request: HarvestRequest) -> Found[tuple[OfflineTask, bytes]]:
        job_id = request.id
        task, raw = self.client.get_raw(job_id)
        seen = conversation_observation(job_id, task, self.clock())
        deleted = seen.service_status == ProcessingStatus.DELETED.value
        gone = "deleted in the conversation service before the harvest" if deleted else None
        return Found(seen, (task, raw), gone=gone)

    def write(
        self,
        job_id: str,
        found: Found[tuple[OfflineTask, bytes]],
        started: float,
        written: Mapping[str, Written],
    ) -> Manifest:
        """The conversation's files, each written only if absent (small: no earlier attempt to reuse)."""
        task, raw = found.entity
        return self._write(job_id, task, raw, found.observation.service_status)

    def delete(self, job_id: str) -> None:
        self.client.delete(job_id)

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

"""The Speech web hook receiver: the challenge handshake, the signature check, and what each event changes.

The route is anonymous at the HTTP level because the Speech service cannot send a function key; requests are
authenticated by X-MicrosoftSpeechServices-Signature, the Base64 HMAC-SHA256 of the raw body keyed with
WEBHOOK_SECRET. With a secret configured, nothing unsigned or badly signed is answered (not even the
challenge) and nothing is enqueued.

A completion whose signature verifies is the service's own word: its body is the finished job, recorded
through shared.records.apply_observation (the same ETag-guarded step the timer uses, so a web hook and a poll
tick racing on one job enqueue its harvest exactly once) and handed to the harvest, which then only lists the
files. A deletion, or a completion when no secret is set, is never taken on the body's word: the receiver
asks the service once (GET), so a forged event cannot finish or remove a job, and a replayed one finds the
job further along. Creation and Processing events are recorded from their (signed) body without a call.

`classify` is the pure part (request in, decision out); `receive` carries the decision out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import ValidationError

from shared import layout, logs
from shared.jsonbody import NotAJsonObject, json_object
from shared.ledger import Ledger
from shared.observations import observation_of
from shared.queueing import HarvestQueue, RequestReason
from shared.records import apply_observation, decide_and_save
from shared.redact import redact_url
from shared.replies import TEXT, ApiModel, Reply, error_reply, json_reply
from shared.speech import NotFoundError, SpeechClient, SpeechError, Transcription
from shared.states import Decision, JobKind, JobRecord, LedgerState, Observation, went_missing

EVENT_HEADER = "X-MicrosoftSpeechServices-Event"
SIGNATURE_HEADER = "X-MicrosoftSpeechServices-Signature"
TOKEN_PARAMETER = "validationToken"  # noqa: S105 (a parameter name, not a secret)
MAX_TOKEN = 1024


class Event(StrEnum):
    CHALLENGE = "Challenge"
    PING = "Ping"
    TRANSCRIPTION_CREATION = "TranscriptionCreation"
    TRANSCRIPTION_PROCESSING = "TranscriptionProcessing"
    TRANSCRIPTION_COMPLETION = "TranscriptionCompletion"
    TRANSCRIPTION_DELETION = "TranscriptionDeletion"


TRANSCRIPTION_EVENTS = frozenset(
    {
        Event.TRANSCRIPTION_CREATION,
        Event.TRANSCRIPTION_PROCESSING,
        Event.TRANSCRIPTION_COMPLETION,
        Event.TRANSCRIPTION_DELETION,
    }
)
# Events of other Speech entities a hook can be registered for: acknowledged so the service does not retry.
OTHER_ENTITY_EVENTS = frozenset(
    f"{entity}{phase}"
    for entity in ("Dataset", "Model", "Evaluation", "Endpoint")
    for phase in ("Creation", "Processing", "Completion", "Deletion")
)
_EVENTS_BY_NAME = {event.value.lower(): event for event in Event}


def signature(secret: str, body: bytes) -> str:
    """What the service sends: Base64 of HMAC-SHA256 over the raw body, keyed with the UTF-8 secret."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_problem(secret: str | None, body: bytes, presented: str | None) -> str | None:
    """Why the request is not authentic, or None. Constant-time comparison; without a secret, all pass."""
    if not secret:
        return None
    if not presented:
        return f"the request is not signed ({SIGNATURE_HEADER} is missing)"
    expected = signature(secret, body).encode("ascii")
    if not hmac.compare_digest(expected, presented.strip().encode("utf-8", errors="replace")):
        return f"{SIGNATURE_HEADER} does not match the body"
    return None


# --- what a request is ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """The request is not accepted: answered with this status and an error body naming the problem."""

    status: int
    code: str
    message: str

    def reply(self) -> Reply:
        return error_reply(self.status, self.code, self.message)


@dataclass(frozen=True)
class Challenge:
    token: str


@dataclass(frozen=True)
class Acknowledge:
    """An event we accept and do nothing with (Ping, events of other entities)."""

    event: str


@dataclass(frozen=True)
class TranscriptionEvent:
    event: Event
    transcription_id: str
    entity: dict[str, Any] = field(default_factory=dict)


Classified = Refusal | Challenge | Acknowledge | TranscriptionEvent


def _bad(message: str) -> Refusal:
    return Refusal(400, "InvalidRequest", message)


def classify(
    method: str,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    body: bytes,
    secret: str | None,
) -> Classified:
    """Decide what a request is, or why it is refused. Pure: no I/O."""
    lowered = {name.lower(): value for name, value in headers.items()}
    method = method.upper()
    if method not in ("GET", "POST"):
        return Refusal(405, "MethodNotAllowed", f"{method} is not accepted; the service POSTs events")
    problem = signature_problem(secret, body, lowered.get(SIGNATURE_HEADER.lower()))
    if problem is not None:
        return Refusal(401, "Unauthorized", problem)

    event_name = (lowered.get(EVENT_HEADER.lower()) or "").strip()
    token = query.get(TOKEN_PARAMETER)
    if event_name.lower() == Event.CHALLENGE.value.lower() or (not event_name and token is not None):
        if not token:
            return _bad(f"a challenge needs the {TOKEN_PARAMETER} query parameter")
        if len(token) > MAX_TOKEN:
            return _bad(f"{TOKEN_PARAMETER} is longer than {MAX_TOKEN} characters")
        return Challenge(token)
    if method == "GET":
        return _bad(
            f"GET is only for the challenge handshake: the {TOKEN_PARAMETER} query parameter is missing"
        )
    if not event_name:
        return _bad(f"the {EVENT_HEADER} header is missing")
    event = _EVENTS_BY_NAME.get(event_name.lower())
    if event is None:
        if event_name in OTHER_ENTITY_EVENTS:
            return Acknowledge(event_name)
        return _bad(f"unknown event {event_name[:80]!r} in the {EVENT_HEADER} header")
    if event is Event.PING:
        return Acknowledge(event.value)
    return _transcription_event(event, body)


def _transcription_event(event: Event, body: bytes) -> Refusal | TranscriptionEvent:
    if not body.strip():
        return _bad(f"{event.value}: the body is empty; expected the transcription as JSON")
    try:
        entity = json_object(body, f"{event.value}: the body")
    except NotAJsonObject as error:
        return _bad(str(error))
    self_url = entity.get("self")
    if self_url is None:
        return _bad(f"{event.value}: the body has no 'self' (the transcription's URL)")
    if not isinstance(self_url, str):
        return _bad(f"{event.value}: 'self' must be a string, got {type(self_url).__name__}")
    transcription_id = transcription_id_of(self_url)
    if transcription_id is None:
        return _bad(
            f"{event.value}: 'self' is not the URL of a transcription: {redact_url(self_url)[:200]!r}"
        )
    return TranscriptionEvent(event, transcription_id, entity)


def transcription_id_of(self_url: str) -> str | None:
    """The id in `.../transcriptions/<uuid>[?api-version=...]`, or None for anything else."""
    parts = urlsplit(self_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    segments = [unquote(s) for s in parts.path.rstrip("/").split("/")]
    if len(segments) < 2 or segments[-2] != "transcriptions":
        return None
    try:
        return layout.validate_job_id(JobKind.TRANSCRIPTION, segments[-1])
    except ValueError:
        return None


# --- what a request does -------------------------------------------------------------------------------


class WebhookAck(ApiModel):
    """The answer to an accepted event; the service only reads the status, people read the rest."""

    event: str
    id: str | None = None
    action: str
    state: str | None = None


@dataclass
class WebhookDeps:
    secret: str | None
    speech: SpeechClient
    ledger: Ledger
    queue: HarvestQueue
    tracked_only: bool = False  # DISCOVERY=tracked: events about other jobs are acknowledged and ignored
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def receive(
    method: str,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    body: bytes,
    deps: WebhookDeps,
) -> Reply:
    """Handle one web hook request end to end; the Reply is what the function returns."""
    decision = classify(method, headers, query, body, deps.secret)
    if isinstance(decision, Refusal):
        logs.event("webhook_refused", logging.WARNING, status=decision.status, reason=decision.message)
        return decision.reply()
    if isinstance(decision, Challenge):
        logs.event("webhook_challenge", method=method.upper())
        return Reply(200, decision.token, TEXT, {"X-Content-Type-Options": "nosniff"})
    if isinstance(decision, Acknowledge):
        logs.event("webhook_event", speech_event=decision.event, action="ignored")
        return json_reply(200, WebhookAck(event=decision.event, action="ignored"))
    try:
        ack = _act(decision, deps)
    except SpeechError as error:
        # The service retries an event that was not answered with 2xx: the right outcome for a blip.
        logs.event(
            "webhook_unconfirmed",
            logging.WARNING,
            speech_event=decision.event.value,
            id=decision.transcription_id,
            error=str(error),
        )
        return error_reply(
            503, "ServiceUnavailable", f"could not confirm the event with the Speech service: {error}"
        )
    logs.event("webhook_event", speech_event=ack.event, id=ack.id, action=ack.action, state=ack.state)
    return json_reply(200, ack)


def _act(event: TranscriptionEvent, deps: WebhookDeps) -> WebhookAck:
    job_id = event.transcription_id
    known = deps.ledger.get(JobKind.TRANSCRIPTION, job_id)
    if deps.tracked_only and (known is None or not known.tracked):
        return _ack(event, "ignored (not tracked)", known)
    seen = _claimed(event.entity)
    progress = event.event in (Event.TRANSCRIPTION_CREATION, Event.TRANSCRIPTION_PROCESSING)
    if progress and seen is not None and not seen.terminal:
        return _progress(event, deps, seen, known)
    completion = event.event is Event.TRANSCRIPTION_COMPLETION
    if completion and deps.secret and seen is not None and seen.terminal:
        # Signed with our secret, so the service sent it: the body is the finished job. It is recorded and
        # handed to the harvest as it is, which then only lists the files (one Speech call for the job).
        return _record(event, deps, seen, known, entity=event.entity)
    # A deletion, an unsigned completion, or a body that is not a finished job: one GET says what is true.
    try:
        transcription = deps.speech.get_transcription(job_id)
    except NotFoundError:
        reason = "deleted in the service" if event.event is Event.TRANSCRIPTION_DELETION else "not found"
        return _deleted(event, deps, f"{reason} (web hook {event.event.value})")
    return _record(event, deps, observation_of(transcription), known, entity=transcription.wire)


def _claimed(entity: dict[str, Any]) -> Observation | None:
    try:
        return observation_of(Transcription.model_validate(entity))
    except (ValidationError, ValueError):
        return None


def _progress(
    event: TranscriptionEvent, deps: WebhookDeps, seen: Observation, known: JobRecord | None
) -> WebhookAck:
    """Creation and Processing only say "not finished yet", so they cost no GET: the body is recorded when it
    is signed (an unsigned one is not trusted; the poll records the job anyway), and only onto a job that is
    not further along already (events arrive late, or out of order after retries)."""
    if not deps.secret:
        return _ack(event, "ignored (unsigned)", known)
    if known is not None and known.state is not LedgerState.PENDING:
        return _ack(event, "ignored (stale)", known)
    return _record(event, deps, seen, known)


def _ack(event: TranscriptionEvent, action: str, record: JobRecord | None) -> WebhookAck:
    return WebhookAck(
        event=event.event.value,
        id=event.transcription_id,
        action=action,
        state=record.state.value if record else None,
    )


def _record(
    event: TranscriptionEvent,
    deps: WebhookDeps,
    seen: Observation,
    known: JobRecord | None,
    *,
    entity: dict[str, Any] | None = None,
) -> WebhookAck:
    saved = apply_observation(
        deps.ledger,
        deps.queue,
        seen,
        deps.clock(),
        reason=RequestReason.WEBHOOK,
        source="webhook",
        prefetched={seen.id: known} if known is not None else {},  # a stale read only costs a retry
        entity=entity,
    )
    enqueued = saved is not None and saved.decision.enqueue
    record = deps.ledger.get(JobKind.TRANSCRIPTION, event.transcription_id)
    return _ack(event, "enqueued" if enqueued else "recorded", record)


def _deleted(event: TranscriptionEvent, deps: WebhookDeps, reason: str) -> WebhookAck:
    job_id = event.transcription_id

    def decide(record: JobRecord | None) -> Decision:
        return went_missing(
            record,
            deps.clock(),
            reason,
            kind=JobKind.TRANSCRIPTION,
            job_id=job_id,
            service_status="Deleted",
            create=False,
        )

    saved = decide_and_save(
        deps.ledger, JobKind.TRANSCRIPTION, job_id, decide, deps.clock(), source="webhook"
    ).record
    missing = saved is not None and saved.state is LedgerState.MISSING
    return _ack(event, "missing" if missing else "ignored", saved)

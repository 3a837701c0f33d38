"""The composition root: builds the app's parts from settings, once per worker process, and handles a
queue message end to end (including the decision to give up and poison it with its reason).

function_app.py calls only into this module, so the triggers stay a few lines each; the HTTP handlers here
take plain values (method, headers, query, body) and return a shared.replies.Reply.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from azure.core.credentials import TokenCredential
from opentelemetry.trace import SpanKind

from shared import backlog, conversations, logs, submission, telemetry, webhooks
from shared.connections import identity_credential
from shared.content import ContentReader, StorageCredential
from shared.conversations import ConversationHarvester, ConversationPoller, ConversationsOffError
from shared.destination import Destination
from shared.failures import Failure, classify
from shared.harvest import Harvester, Outcome
from shared.ledger import ConcurrencyError, Ledger
from shared.notify import Notifier, Target, targets_from_settings
from shared.poll import Poller
from shared.queueing import BadMessageError, HarvestQueue, HarvestRequest, RequestReason, parse_request
from shared.rate_budget import SharedRateBudget, budget_key
from shared.records import decide_and_save
from shared.redact import redact_text
from shared.replies import Reply
from shared.sessions import harvest_session
from shared.settings import Discovery, RateScope, Settings, settings
from shared.speech import ConversationClient, SpeechClient
from shared.speech.ratelimit import credential_fingerprint
from shared.speech.versions import origin
from shared.states import Decision, JobKind, JobRecord, harvest_poisoned, went_missing
from shared.status import StatusReport, status_report
from shared.telemetry import Trigger

# With SPEECH_RATE_SCOPE=instance, each process keeps 95% of the limit: our window opens when a request leaves,
# the service's when it arrives, so the margin keeps bursts at the window's edge from meeting 429s.
INSTANCE_RATE_SHARE = 0.95
RATE_BUDGET_TABLE = "speechratebudget"

logs.quiet_libraries()


@dataclass(frozen=True)
class Components:
    settings: Settings
    speech: SpeechClient
    ledger: Ledger
    queue: HarvestQueue
    destination: Destination
    content: ContentReader
    conversations: ConversationClient | None = None  # None: conversation features are off
    notify_targets: tuple[Target, ...] = ()  # where transcript-ready events go (none: no events)

    def secrets(self) -> list[str]:
        values = [
            self.settings.speech_key,
            self.settings.webhook_secret,
            self.settings.destination_connection,
        ]
        connections = [self.settings.storage, self.settings.notify_connection]
        return [v.get_secret_value() for v in values if v is not None] + [
            secret for connection in connections if connection is not None for secret in connection.secrets()
        ]


def app_credential(config: Settings) -> TokenCredential:
    """The app's own identity for Speech, a destination without SAS and result files at plain URLs:
    managed identity (user-assigned by AZURE_CLIENT_ID, else AzureWebJobsStorage__clientId) or a developer
    login, through DefaultAzureCredential."""
    return identity_credential(config.identity_client_id)


def _speech_auth(config: Settings) -> tuple[str | None, TokenCredential | None]:
    key = config.speech_key.get_secret_value() if config.speech_key else None
    return key, None if key is not None else app_credential(config)


def rate_budget(config: Settings, key: str | None) -> SharedRateBudget | None:
    """The app-wide Speech budget (SPEECH_RATE_SCOPE=app), one row per resource in AzureWebJobsStorage."""
    if config.speech_rate_scope is not RateScope.APP:
        return None
    scheme, host = origin(config.speech_endpoint)
    return SharedRateBudget.open(
        config.storage,
        RATE_BUDGET_TABLE,
        budget_key(f"{scheme}://{host}", credential_fingerprint(key)),
        limit=config.speech_rate_limit,
    )


def speech_client(config: Settings) -> SpeechClient:
    key, credential = _speech_auth(config)
    return SpeechClient(
        config.speech_endpoint,
        api_version=config.speech_api_version,
        key=key,
        credential=credential,
        rate_limit=max(1, int(config.speech_rate_limit * INSTANCE_RATE_SHARE)),
        limiter=rate_budget(config, key),
    )


def conversation_client(config: Settings) -> ConversationClient | None:
    endpoint = config.conversation_service_endpoint
    if endpoint is None:
        return None
    key, credential = _speech_auth(config)
    return ConversationClient(endpoint, key=key, credential=credential)


def build(config: Settings) -> Components:
    destination = Destination.from_settings(config, app_credential(config))
    container = destination.container
    credentials: dict[str, StorageCredential] = {}
    if container.credential is not None:
        credentials[container.primary_endpoint.rsplit("/", 1)[0]] = container.credential
    return Components(
        settings=config,
        speech=speech_client(config),
        ledger=Ledger.open(config.storage, config.ledger_table),
        queue=HarvestQueue(config.storage, config.harvest_queue),
        destination=destination,
        content=ContentReader(
            session=harvest_session(config.harvest_file_concurrency),
            storage_credentials=credentials,
            default_credential=app_credential(config),
        ),
        conversations=conversation_client(config),
        notify_targets=tuple(targets_from_settings(config)),
    )


@cache
def components() -> Components:
    return build(settings())


def notifier(parts: Components | None = None) -> Notifier | None:
    """The publisher of transcript-ready events; None when no target is configured (no events owed)."""
    parts = parts or components()
    if not parts.notify_targets:
        return None
    return Notifier(parts.ledger, parts.destination, list(parts.notify_targets), parts.secrets())


def poller(parts: Components | None = None) -> Poller:
    parts = parts or components()
    return Poller(parts.settings, parts.speech, parts.ledger, parts.queue)


def harvester(parts: Components | None = None) -> Harvester:
    parts = parts or components()
    return Harvester(
        parts.settings,
        parts.speech,
        parts.ledger,
        parts.destination,
        parts.queue,
        parts.content,
        notifier=notifier(parts),
    )


def conversation_poller(parts: Components | None = None) -> ConversationPoller | None:
    parts = parts or components()
    if parts.conversations is None:
        return None
    return ConversationPoller(parts.settings, parts.conversations, parts.ledger, parts.queue)


def conversation_harvester(parts: Components | None = None) -> ConversationHarvester:
    parts = parts or components()
    if parts.conversations is None:
        raise ConversationsOffError()
    return ConversationHarvester(
        parts.settings,
        parts.conversations,
        parts.ledger,
        parts.destination,
        parts.queue,
        notifier=notifier(parts),
    )


def poll_tick(parts: Components | None = None) -> None:
    """The timer: the transcription tick, then the conversation poll and the backlog gauges, whose failures
    are logged, never raised (they must not fail or hold up the transcriptions)."""
    parts = parts or components()
    with telemetry.triggered_by(Trigger.TIMER):
        try:
            poller(parts).tick()
        finally:
            conversation_poll = conversation_poller(parts)
            if conversation_poll is not None:
                with _failure_logged("conversation_poll_failed", parts):
                    conversation_poll.tick()
            publisher = notifier(parts)
            if publisher is not None:
                with _failure_logged("event_catch_up_failed", parts):
                    publisher.publish_all_owed(datetime.now(UTC))
            with _failure_logged("backlog_failed", parts):
                margin = timedelta(hours=parts.settings.ttl_warning_hours)
                backlog.observe(parts.ledger, parts.queue, datetime.now(UTC), margin)


@contextlib.contextmanager
def _failure_logged(name: str, parts: Components) -> Iterator[None]:
    try:
        yield
    except Exception as error:
        logs.event(
            name, logging.ERROR, error=redact_text(f"{type(error).__name__}: {error}", parts.secrets())
        )


def harvest(request: HarvestRequest, parts: Components | None = None) -> Outcome:
    """One harvest request, by kind."""
    parts = parts or components()
    if request.kind is JobKind.CONVERSATION:
        return conversation_harvester(parts).harvest(request)
    return harvester(parts).harvest(request)


_TRIGGERS = {
    RequestReason.WEBHOOK: Trigger.WEBHOOK,
    RequestReason.REPLAY: Trigger.REPLAY,
}


def handle_message(body: bytes, dequeue_count: int | None, parts: Components | None = None) -> None:
    """Process one harvest message. Raise to have it retried; return to have it deleted.

    What to do with a failure is decided by shared.failures.classify alone: transient errors are retried by
    the queue until the last allowed attempt; permanent ones (and malformed messages) go to the poison queue
    at once, wrapped with their reason, and the job is marked Poisoned; gone means the service no longer has
    what we were reading, so the job is marked Missing and the message is done. The harvest continues the
    trace of the step that requested it (the message's traceparent).
    """
    parts = parts or components()
    attempt = dequeue_count or 1
    try:
        request = parse_request(body)
    except BadMessageError as error:
        _poison(parts, body, f"bad message: {error}", attempt, None)
        return
    kind = request.kind.value
    attributes = {"job.kind": kind, "job.id": request.id, "harvest.reason": request.reason.value}
    with (
        telemetry.triggered_by(_TRIGGERS.get(request.reason, Trigger.TIMER)),
        telemetry.job_span(
            f"harvest {kind}",
            traceparent=request.traceparent,
            kind=SpanKind.CONSUMER,
            attributes={**attributes, "harvest.attempt": attempt},
        ) as span,
    ):
        telemetry.queue_wait.record(
            max(0.0, (datetime.now(UTC) - request.requested_at).total_seconds()), {"kind": kind}
        )
        started = time.monotonic()
        outcome = "retry"
        try:
            outcome = _harvest_or_fail(request, body, attempt, parts)
        finally:
            span.set_attribute("harvest.outcome", outcome)
            telemetry.harvest_duration.record(time.monotonic() - started, {"kind": kind, "outcome": outcome})


def _harvest_or_fail(request: HarvestRequest, body: bytes, attempt: int, parts: Components) -> str:
    """Harvest, or act on the failure; the outcome's name (a metric dimension), or raise to retry."""
    try:
        return harvest(request, parts).value
    except Exception as error:
        failure = classify(error)
        described = f"{type(error).__name__}: {error}"
        if failure is Failure.GONE:
            _gone(parts, request, described)
            return "missing"
        if failure is Failure.PERMANENT:
            _poison(parts, body, described, attempt, request)
            return "poisoned"
        if attempt >= parts.settings.max_dequeue_count:
            _poison(parts, body, f"gave up after {attempt} attempts: {described}", attempt, request)
            return "poisoned"
        logs.event(
            "harvest_retry",
            logging.WARNING,
            id=request.id,
            attempt=attempt,
            error=redact_text(described, parts.secrets()),
        )
        raise


def _gone(parts: Components, request: HarvestRequest, reason: str) -> None:
    reason = redact_text(reason, parts.secrets())
    logs.event("harvest_gone", logging.WARNING, kind=request.kind.value, id=request.id, reason=reason)
    now = datetime.now(UTC)

    def decide(current: JobRecord | None) -> Decision:
        return went_missing(current, now, reason, kind=request.kind, job_id=request.id)

    with contextlib.suppress(ConcurrencyError):  # logged as contention; the next poll sees the job again
        decide_and_save(parts.ledger, request.kind, request.id, decide, now)


def _poison(
    parts: Components, body: bytes, reason: str, attempt: int, request: HarvestRequest | None
) -> None:
    reason = redact_text(reason, parts.secrets())
    parts.queue.poison(body, reason, dequeue_count=attempt)
    logs.event("poisoned", logging.ERROR, id=request.id if request else None, reason=reason, attempt=attempt)
    if request is None:
        return
    now = datetime.now(UTC)

    def decide(current: JobRecord | None) -> Decision:
        return harvest_poisoned(current, now, reason, kind=request.kind, job_id=request.id)

    try:
        decide_and_save(parts.ledger, request.kind, request.id, decide, now)
    except Exception as error:
        # The message is on the poison queue with its reason: raising now would have it redelivered and
        # poisoned a second time. The ledger row stays as it was, and says so in the log.
        logs.event(
            "poison_ledger_failed",
            logging.ERROR,
            id=request.id,
            error=redact_text(f"{type(error).__name__}: {error}", parts.secrets()),
        )


def status(parts: Components | None = None) -> StatusReport:
    parts = parts or components()
    return status_report(parts.ledger, datetime.now(UTC))


# --- HTTP API ----------------------------------------------------------------------------------------------


def receive_webhook(
    method: str,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    body: bytes,
    parts: Components | None = None,
) -> Reply:
    parts = parts or components()
    secret = parts.settings.webhook_secret
    deps = webhooks.WebhookDeps(
        secret=secret.get_secret_value() if secret is not None else None,
        speech=parts.speech,
        ledger=parts.ledger,
        queue=parts.queue,
        tracked_only=parts.settings.discovery is Discovery.TRACKED,
    )
    with telemetry.triggered_by(Trigger.WEBHOOK):
        return webhooks.receive(method, headers, query, body, deps)


def submit_transcription(body: bytes, parts: Components | None = None) -> Reply:
    parts = parts or components()
    deps = submission.SubmissionDeps(parts.speech, parts.ledger, parts.queue, parts.secrets())
    with telemetry.triggered_by(Trigger.SUBMIT):
        return submission.submit(body, deps)


def job_status(kind: JobKind, job_id: str, parts: Components | None = None) -> Reply:
    parts = parts or components()
    return submission.job_status(kind, job_id, parts.ledger, parts.destination)


def track_conversation(conversation_id: str, parts: Components | None = None) -> Reply:
    parts = parts or components()
    with telemetry.triggered_by(Trigger.SUBMIT):
        return conversations.track_conversation(
            conversation_id, parts.ledger, enabled=parts.conversations is not None, now=datetime.now(UTC)
        )


__all__ = [
    "Components",
    "JobKind",
    "build",
    "components",
    "conversation_harvester",
    "conversation_poller",
    "handle_message",
    "harvest",
    "harvester",
    "job_status",
    "poll_tick",
    "poller",
    "receive_webhook",
    "status",
    "submit_transcription",
    "track_conversation",
]

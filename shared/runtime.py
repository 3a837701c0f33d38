"""The composition root: builds the app's parts from settings, once per worker process, and handles a
queue message end to end (including the decision to give up and poison it with its reason).

function_app.py calls only into this module, so the triggers stay a few lines each.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from shared import logs
from shared.content import ContentReader
from shared.destination import Destination
from shared.harvest import Harvester
from shared.ledger import ConcurrencyError, Ledger
from shared.poll import Poller
from shared.queueing import BadMessageError, HarvestQueue, HarvestRequest, parse_request
from shared.redact import redact_text
from shared.settings import Settings, settings
from shared.speech import AuthenticationError, InvalidRequestError, SpeechClient
from shared.states import JobKind, JobRecord, LedgerState, harvest_poisoned
from shared.status import StatusReport, status_report

PERMANENT_ERRORS = (AuthenticationError, InvalidRequestError)


@dataclass(frozen=True)
class Components:
    settings: Settings
    speech: SpeechClient
    ledger: Ledger
    queue: HarvestQueue
    destination: Destination
    content: ContentReader

    def secrets(self) -> list[str]:
        values = [self.settings.speech_key, self.settings.webhook_secret, self.settings.destination_connection]
        return [v.get_secret_value() for v in values if v is not None]


def speech_client(config: Settings) -> SpeechClient:
    key = config.speech_key.get_secret_value() if config.speech_key else None
    credential = None
    if key is None:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    return SpeechClient(config.speech_endpoint, api_version=config.speech_api_version, key=key, credential=credential)


def build(config: Settings) -> Components:
    storage = config.storage_connection.get_secret_value()
    destination = Destination.from_settings(config)
    container = destination.container
    credentials: dict[str, object] = {}
    if container.credential is not None:
        credentials[container.primary_endpoint.rsplit("/", 1)[0]] = container.credential
    return Components(
        settings=config,
        speech=speech_client(config),
        ledger=Ledger.from_connection_string(storage, config.ledger_table),
        queue=HarvestQueue(storage, config.harvest_queue),
        destination=destination,
        content=ContentReader(storage_credentials=credentials),
    )


@cache
def components() -> Components:
    return build(settings())


def poller(parts: Components | None = None) -> Poller:
    parts = parts or components()
    return Poller(parts.settings, parts.speech, parts.ledger, parts.queue)


def harvester(parts: Components | None = None) -> Harvester:
    parts = parts or components()
    return Harvester(parts.settings, parts.speech, parts.ledger, parts.destination, parts.queue, parts.content)


def handle_message(body: bytes, dequeue_count: int | None, parts: Components | None = None) -> None:
    """Process one harvest message. Raise to have it retried; return to have it deleted.

    A message we can never process (malformed, or a permanent error, or the last allowed attempt) is put on
    the poison queue by us, wrapped with its reason, and the job is marked Poisoned in the ledger.
    """
    parts = parts or components()
    attempt = dequeue_count or 1
    try:
        request = parse_request(body)
    except BadMessageError as error:
        _poison(parts, body, f"bad message: {error}", attempt, None)
        return
    try:
        harvester(parts).harvest(request)
    except PERMANENT_ERRORS as error:
        _poison(parts, body, f"{type(error).__name__}: {error}", attempt, request)
    except Exception as error:
        if attempt >= parts.settings.max_dequeue_count:
            _poison(parts, body, f"gave up after {attempt} attempts: {type(error).__name__}: {error}", attempt, request)
            return
        logs.event(
            "harvest_retry",
            logging.WARNING,
            id=request.id,
            attempt=attempt,
            error=redact_text(f"{type(error).__name__}: {error}", parts.secrets()),
        )
        raise


def _poison(parts: Components, body: bytes, reason: str, attempt: int, request: HarvestRequest | None) -> None:
    reason = redact_text(reason, parts.secrets())
    parts.queue.poison(body, reason, dequeue_count=attempt)
    logs.event("poisoned", logging.ERROR, id=request.id if request else None, reason=reason, attempt=attempt)
    if request is None:
        return
    now = datetime.now(UTC)
    for _ in range(3):
        record = parts.ledger.get(request.kind, request.id) or JobRecord(
            kind=request.kind, id=request.id, state=LedgerState.QUEUED, service_status="Unknown", first_seen=now
        )
        if record.state is LedgerState.HARVESTED:
            return
        try:
            saved = parts.ledger.save(harvest_poisoned(record, reason))
        except ConcurrencyError:
            continue
        logs.transition(saved, record.state.value, now)
        return


def status(parts: Components | None = None) -> StatusReport:
    parts = parts or components()
    return status_report(parts.ledger, datetime.now(UTC))


__all__ = ["Components", "JobKind", "build", "components", "handle_message", "harvester", "poller", "status"]

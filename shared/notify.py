"""Publishing transcript-ready events: to a Storage queue, to an Event Grid topic, or both (each optional).

Delivery is at least once. A job that becomes Harvested is marked in the ledger as owing its event
(`event_owed`); the flag is cleared only after every configured target accepted the event. A publish that
fails leaves the flag set, and the next poll tick publishes again. A crash after the publish but before the
flag is cleared publishes the same event again: same `id`, so consumers drop it (see the README).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, ResourceExistsError
from azure.core.messaging import CloudEvent
from azure.eventgrid import EventGridPublisherClient
from azure.storage.queue import QueueClient, TextBase64EncodePolicy
from pydantic import ValidationError

from shared import logs, telemetry
from shared.connections import StorageConnection, identity_credential
from shared.destination import Destination
from shared.events import TranscriptEvent, transcript_event
from shared.ledger import ConcurrencyError, Ledger
from shared.manifest import Manifest
from shared.records import decide_and_save
from shared.redact import redact_text, strip_sas
from shared.settings import Settings
from shared.states import JobKind, JobRecord, LedgerState, event_published

# The harvester publishes right after its Harvested write; the tick leaves it that long before it steps in.
CATCH_UP_GRACE = timedelta(minutes=1)


class Target(Protocol):
    """Somewhere an event is published; `send` raises when the target did not accept it."""

    name: str

    def send(self, event: TranscriptEvent) -> None: ...


class QueueTarget:
    """A Storage queue; messages are base64 text, so a queue trigger reads them as they are."""

    name = "queue"

    def __init__(self, client: QueueClient) -> None:
        self._client = client
        self._created = False

    @classmethod
    def in_connection(cls, connection: StorageConnection, queue: str) -> QueueTarget:
        """The queue `queue` of a storage connection (a connection string or an identity)."""
        return cls(connection.queue(queue, message_encode_policy=TextBase64EncodePolicy()))

    def send(self, event: TranscriptEvent) -> None:
        if not self._created:
            with contextlib.suppress(ResourceExistsError):
                self._client.create_queue()
            self._created = True
        self._client.send_message(event.to_json())


class EventGridTarget:
    """An Event Grid custom topic (CloudEvents schema), authenticated with a token credential (managed
    identity in Azure: the identity needs the EventGrid Data Sender role on the topic)."""

    name = "eventgrid"

    def __init__(self, endpoint: str, credential: TokenCredential, **client_options: Any) -> None:
        self._client = EventGridPublisherClient(endpoint, credential, **client_options)

    def send(self, event: TranscriptEvent) -> None:
        self._client.send(
            CloudEvent(
                source=event.source,
                type=event.type.value,
                id=event.id,
                time=event.time,
                subject=event.subject,
                datacontenttype=event.datacontenttype,
                data=event.data.model_dump(mode="json", by_alias=True),
            )
        )


def targets_from_settings(config: Settings, credential: TokenCredential | None = None) -> list[Target]:
    """The configured targets: NOTIFY_QUEUE (in NOTIFY_CONNECTION, else AzureWebJobsStorage) and
    NOTIFY_EVENTGRID_ENDPOINT (the app's managed identity unless a credential is given)."""
    targets: list[Target] = []
    if config.notify_queue is not None:
        # Either connection is a connection string or an identity, read alike (shared.connections).
        connection = config.notify_connection or config.storage
        targets.append(QueueTarget.in_connection(connection, config.notify_queue))
    if config.notify_eventgrid_endpoint is not None:
        identity = credential or identity_credential(config.identity_client_id)
        targets.append(EventGridTarget(config.notify_eventgrid_endpoint, identity))
    return targets


@dataclass
class Notifier:
    """Publishes the events jobs owe; safe to call from the harvester and the poll tick at once."""

    ledger: Ledger
    destination: Destination
    targets: list[Target]
    secrets: Iterable[str] = ()

    @property
    def source(self) -> str:
        """The CloudEvents `source`: the destination container's URL (never with a SAS)."""
        return strip_sas(self.destination.container.url)

    def event_for(self, record: JobRecord) -> TranscriptEvent | None:
        """The event a Harvested job owes, built from its stored manifest (None: no manifest to describe)."""
        if record.manifest_blob is None:
            return None
        data = self.destination.read(record.manifest_blob)
        if data is None:
            return None
        manifest = Manifest.model_validate_json(data)
        return transcript_event(
            manifest, record.manifest_blob, url_of=self.destination.url, source=self.source
        )

    def publish_owed(self, record: JobRecord) -> bool:
        """Publish the event `record` owes, then clear the flag; False when it stays owed (retried later)."""
        if not record.event_owed or record.state is not LedgerState.HARVESTED:
            return False
        try:
            event = self.event_for(record)
        except (ValidationError, AzureError) as error:
            problem: str | None = redact_text(f"{type(error).__name__}: {error}", self.secrets)[:500]
            event = None
        else:
            problem = "the manifest is missing" if event is None else None
        if event is None:
            # Nothing to announce without the manifest; the job stays owed (retried each tick), and ops see why.
            logs.event(
                "event_publish_failed", logging.WARNING, kind=record.kind.value, id=record.id, error=problem
            )
            return False
        for target in self.targets:
            try:
                target.send(event)
            except Exception as error:
                logs.event(
                    "event_publish_failed",
                    logging.WARNING,
                    kind=record.kind.value,
                    id=record.id,
                    target=target.name,
                    error=redact_text(f"{type(error).__name__}: {error}", self.secrets),
                )
                return False
        now = datetime.now(UTC)
        with contextlib.suppress(ConcurrencyError):  # still owed: published again, same id
            decide_and_save(self.ledger, record.kind, record.id, event_published, now)
        logs.event(
            "event_published",
            kind=record.kind.value,
            id=record.id,
            event_id=event.id,
            type=event.type.value,
            targets=",".join(t.name for t in self.targets),
        )
        return True

    def publish_all_owed(self, now: datetime, *, grace: timedelta = CATCH_UP_GRACE) -> int:
        """The poll tick's catch-up: publish the events still owed by jobs harvested more than `grace` ago
        (a younger one is the harvester's to publish: no race, no needless duplicate), each in the job's trace.
        Returns how many."""
        if not self.targets:
            return 0
        published = 0
        for kind in JobKind:
            for record in self.ledger.owing_events(kind):
                if record.harvested_at is None or now - record.harvested_at >= grace:
                    with telemetry.job_span(
                        f"publish {kind.value} event",
                        traceparent=record.traceparent,
                        attributes={"job.kind": kind.value, "job.id": record.id},
                    ):
                        published += self.publish_owed(record)
        return published

"""Event Grid for blob triggers with `source=EventGrid`: Azurite emits no events, so the host plays the
storage account's system topic and its subscription.

- `BlobCreatedWatcher` (the topic + subscription) lists the trigger's container every `interval` seconds and
  posts one `Microsoft.Storage.BlobCreated` event, in the Event Grid schema, for every blob that appears (or
  is overwritten: a new ETag) after the host started, filtered like a subscription by subjectBeginsWith /
  subjectEndsWith taken from the trigger's path. The POST goes over HTTP to the host's blobs webhook
  `/runtime/webhooks/blobs?functionName=Host.Functions.<name>` with `aeg-event-type: Notification`, as Event
  Grid does in Azure. A delivery that is not answered 2xx is tried again on the next round, up to
  `MAX_DELIVERY_ATTEMPTS` times (Event Grid retries for up to 24 h, then dead-letters).
- `BlobWebhook` (the blobs extension's endpoint) answers the subscription validation handshake, and for each
  BlobCreated event of a blob the trigger's path matches, reads the blob through the trigger's connection and
  invokes the function with an `azure.functions.blob.InputStream`; 200 when it succeeded, 500 when not (so
  the topic delivers again).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.functions.blob import InputStream
from azure.storage.blob import BlobProperties, BlobServiceClient
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from local.host.indexing import BlobFunction
from local.host.invocation import Invoker
from local.host.waits import wait_or_stop

log = logging.getLogger("local.host.eventgrid")

BLOB_CREATED = "Microsoft.Storage.BlobCreated"
WEBHOOK_PATH = "/runtime/webhooks/blobs"
EVENT_TYPE_HEADER = "aeg-event-type"
DEFAULT_INTERVAL = 0.5
MAX_DELIVERY_ATTEMPTS = 30
_TIMEOUT = 60.0


class _Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class BlobCreatedData(_Wire):
    api: str = "PutBlockList"
    client_request_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    request_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    e_tag: str = Field(alias="eTag")
    content_type: str | None = None
    content_length: int
    blob_type: str = "BlockBlob"
    url: str
    sequencer: str


class EventGridEvent(_Wire):
    """An event in the Event Grid schema (the schema blob triggers subscribe with)."""

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    topic: str
    subject: str
    event_type: str
    event_time: datetime
    data: dict[str, Any]
    data_version: str = ""
    metadata_version: str = "1"


def subject_of(container: str, blob_name: str) -> str:
    return f"/blobServices/default/containers/{container}/blobs/{blob_name}"


def blob_created(
    account: str, container: str, blob: BlobProperties, url: str, sequence: int
) -> EventGridEvent:
    data = BlobCreatedData(
        e_tag=str(blob.etag).strip('"'),
        content_type=blob.content_settings.content_type if blob.content_settings else None,
        content_length=blob.size,
        url=url,
        sequencer=f"{sequence:032x}",
    )
    return EventGridEvent(
        topic=f"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/"
        f"Microsoft.Storage/storageAccounts/{account}",
        subject=subject_of(container, blob.name),
        event_type=BLOB_CREATED,
        event_time=blob.last_modified or datetime.now(UTC),
        data=data.model_dump(mode="json", by_alias=True),
    )


@dataclass
class _Pending:
    event: EventGridEvent
    attempts: int = 0


@dataclass
class BlobCreatedWatcher:
    """The system topic and one subscription, for one blob function."""

    function: BlobFunction
    service: BlobServiceClient
    webhook_url: str
    interval: float = DEFAULT_INTERVAL
    _seen: dict[str, str] = field(default_factory=dict)
    _pending: dict[str, _Pending] = field(default_factory=dict)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _sequence: int = 0
    task: asyncio.Task[None] | None = None

    @property
    def subject_begins_with(self) -> str:
        return subject_of(self.function.path.container, self.function.path.literal_prefix)

    @property
    def subject_ends_with(self) -> str:
        return self.function.path.literal_suffix

    async def start(self) -> None:
        """Take the container's current blobs as already announced: the subscription starts now."""
        self._seen = {blob.name: etag for blob, etag in await asyncio.to_thread(self._list)}
        self.task = asyncio.create_task(self._run(), name=f"eventgrid {self.function.name}")

    def stop(self) -> None:
        self._stopping.set()

    def _list(self) -> list[tuple[BlobProperties, str]]:
        container = self.service.get_container_client(self.function.path.container)
        try:
            return [
                (blob, str(blob.etag))
                for blob in container.list_blobs(name_starts_with=self.function.path.literal_prefix or None)
                if blob.name.endswith(self.subject_ends_with)
            ]
        except ResourceNotFoundError:
            return []

    def _scan(self) -> None:
        try:
            listed = self._list()
        except AzureError as error:
            log.warning("Listing container '%s' failed: %s", self.function.path.container, error)
            return
        container = self.service.get_container_client(self.function.path.container)
        for blob, etag in listed:
            if self._seen.get(blob.name) == etag:
                continue
            self._seen[blob.name] = etag
            self._sequence += 1
            url = container.get_blob_client(blob.name).url
            event = blob_created(
                self.service.account_name or "", container.container_name, blob, url, self._sequence
            )
            self._pending[event.id] = _Pending(event)

    def _deliver(self) -> None:
        for event_id, pending in list(self._pending.items()):
            pending.attempts += 1
            body = "[" + pending.event.model_dump_json(by_alias=True) + "]"
            try:
                response = requests.post(
                    self.webhook_url,
                    data=body.encode("utf-8"),
                    headers={"Content-Type": "application/json", EVENT_TYPE_HEADER: "Notification"},
                    timeout=_TIMEOUT,
                )
                delivered = 200 <= response.status_code < 300
                outcome = str(response.status_code)
            except requests.RequestException as error:
                delivered, outcome = False, type(error).__name__
            if delivered:
                del self._pending[event_id]
            elif pending.attempts >= MAX_DELIVERY_ATTEMPTS:
                log.error(
                    "Event Grid gave up delivering %s for %s after %d attempts (last: %s): dead-lettered",
                    BLOB_CREATED,
                    pending.event.subject,
                    pending.attempts,
                    outcome,
                )
                del self._pending[event_id]
            else:
                log.warning(
                    "Event Grid delivery of %s to %s failed (%s); retrying",
                    pending.event.subject,
                    self.function.name,
                    outcome,
                )

    async def _run(self) -> None:
        while not await wait_or_stop(self._stopping, self.interval):
            await asyncio.to_thread(self._scan)
            if self._pending:
                await asyncio.to_thread(self._deliver)


def blob_location(url: str, service_url: str) -> tuple[str, str] | None:
    """(container, blob name) of a blob URL in the account at `service_url` (path-style for Azurite,
    host-style in Azure); None for a blob of another account."""
    base = urlsplit(service_url.rstrip("/") + "/")
    parts = urlsplit(url)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not parts.path.startswith(base.path):
        return None
    container, _, name = unquote(parts.path[len(base.path) :]).partition("/")
    return container, name


class BlobWebhook:
    """The blobs extension's webhook: `POST /runtime/webhooks/blobs?functionName=Host.Functions.<name>`."""

    def __init__(
        self, functions: list[BlobFunction], services: dict[str, BlobServiceClient], invoker: Invoker
    ) -> None:
        self._functions = {f"Host.Functions.{f.name}".lower(): f for f in functions}
        self._services = services
        self._invoker = invoker

    async def handle(self, function_name: str, event_type: str, body: bytes) -> tuple[int, Any]:
        """(status, JSON body or None) for one webhook request."""
        function = self._functions.get(function_name.lower())
        if function is None:
            return 404, None
        try:
            events = [EventGridEvent.model_validate(item) for item in _as_list(body)]
        except (ValueError, TypeError, ValidationError) as error:
            return 400, {"error": f"not an array of Event Grid events: {error}"}
        if event_type == "SubscriptionValidation":
            code = events[0].data.get("validationCode") if events else None
            return 200, {"validationResponse": code}
        if event_type != "Notification":
            return 400, {"error": f"unexpected {EVENT_TYPE_HEADER}: {event_type!r}"}
        for event in events:
            if event.event_type != BLOB_CREATED:
                continue
            if not await self._invoke(function, event):
                return 500, None
        return 200, None

    async def _invoke(self, function: BlobFunction, event: EventGridEvent) -> bool:
        service = self._services[function.connection]
        location = blob_location(str(event.data.get("url", "")), service.url)
        if location is None:
            return True  # another account's blob: acknowledged, nothing to run
        container, name = location
        if container != function.path.container or function.path.match(name) is None:
            return True  # not this trigger's blob: acknowledged, nothing to run
        client = service.get_blob_client(container, name)

        def download() -> tuple[bytes, BlobProperties]:
            downloader = client.download_blob()
            return downloader.readall(), downloader.properties

        try:
            data, properties = await asyncio.to_thread(download)
        except ResourceNotFoundError:
            log.warning("Blob %s/%s is gone; nothing to trigger %s with", container, name, function.name)
            return True
        stream = InputStream(
            data=data,
            name=f"{container}/{name}",
            uri=client.url,
            length=len(data),
            blob_properties={
                "ETag": str(properties.etag),
                "ContentType": properties.content_settings.content_type,
            },
            metadata=dict(properties.metadata or {}),
        )
        outcome = await self._invoker.invoke(
            function,
            stream,
            reason=f"EventGrid notification for blob '{container}/{name}'.",
            details=f"Event id: {event.id}, Subject: {event.subject}",
        )
        return outcome.succeeded


def _as_list(body: bytes) -> list[Any]:
    value = json.loads(body)
    if not isinstance(value, list):
        raise TypeError("expected a JSON array")
    return value

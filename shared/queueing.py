"""Harvest requests on the Storage queue, and the poison queue that keeps what could not be processed.

Messages are base64 text, as the Functions host expects. A message we cannot use is never dropped: it goes to
`<queue>-poison` wrapped with the reason, so ops can read why and replay it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import math
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.queue import QueueClient, TextBase64EncodePolicy
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from shared import telemetry
from shared.connections import StorageConnection
from shared.jsonbody import NotAJsonObject, json_object
from shared.layout import validate_job_id
from shared.speech.wire import id_from_self
from shared.states import JobKind


class RequestReason(StrEnum):
    POLL = "poll"
    RECONCILE = "reconcile"
    WEBHOOK = "webhook"
    REQUEUE = "requeue"
    CONTINUATION = "continuation"
    REPLAY = "replay"


class HarvestRequest(BaseModel):
    """The queue message: which job to harvest. Small on purpose; everything else is read fresh. camelCase
    like every JSON we write (`requestedAt`); a message written before that (`requested_at`) is still read."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )

    kind: JobKind = JobKind.TRANSCRIPTION
    id: str
    reason: RequestReason = RequestReason.POLL
    requested_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    # W3C trace context of the step that requested the harvest: the harvest continues that trace.
    traceparent: str | None = None
    # The transcription as the service returned it (SAS removed), when a trustworthy source had it: the
    # poll's list page, a signed web hook, the harvest continuing itself. The harvest then only lists the
    # files instead of asking for the job again: one Speech call per job. Only the app writes this queue.
    entity: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _canonical_id(self) -> HarvestRequest:
        validate_job_id(self.kind, self.id)
        if self.entity is not None:
            if self.kind is not JobKind.TRANSCRIPTION:
                raise ValueError(f"entity: only a transcription request carries one, not a {self.kind.value}")
            named = self.entity.get("self")
            try:  # any spelling of the same UUID: the id itself comes from the request, never from 'self'
                same = isinstance(named, str) and uuid.UUID(id_from_self(named)) == uuid.UUID(self.id)
            except ValueError:
                same = False
            if not same:
                raise ValueError(f"entity: not the transcription {self.id} (its 'self' names another)")
        return self


class BadMessageError(ValueError):
    """The queue message is not a harvest request; the text names what is wrong."""


def parse_request(body: bytes) -> HarvestRequest:
    """Decode a queue message body, or raise BadMessageError saying exactly why not."""
    try:
        data = json_object(body, "message body")
    except NotAJsonObject as error:
        raise BadMessageError(str(error)) from None
    try:
        request = HarvestRequest.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or 'body'}: {item['msg'].removeprefix('Value error, ')}"
            for item in error.errors()
        )
        raise BadMessageError(f"message is not a harvest request: {problems}") from None
    return request


POISON_SCHEMA_VERSION = "1.0"
# A Storage queue message is at most 64 KiB of (base64) text; the envelope keeps a margin below it.
MAX_MESSAGE = 64 * 1024 - 1024
MAX_REASON = 4000
# A harvest request's JSON, base64-encoded on the queue (4 characters per 3 bytes), must fit in one message.
MAX_REQUEST = MAX_MESSAGE * 3 // 4


class PoisonEnvelope(BaseModel):
    """What we put on the poison queue ourselves: the original body and why it failed, in camelCase like
    every published JSON. A body too large to fit in one queue message beside its reason is cut (at a
    character boundary) and says so: `bodyTruncated`, with the original's `bodySize` and `bodySha256`.
    Envelopes written before schema 1.0 (snake_case names) are still read."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True)

    schema_version: str = POISON_SCHEMA_VERSION
    reason: str
    body: str
    body_encoding: Literal["utf-8", "base64"] = "utf-8"
    body_truncated: bool = False
    body_size: int | None = None
    body_sha256: str | None = None
    poisoned_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    dequeue_count: int | None = None

    @classmethod
    def wrap(cls, body: bytes, reason: str, *, dequeue_count: int | None = None) -> PoisonEnvelope:
        """The envelope for `body`, cut if it must be so that the encoded message fits in the queue."""
        try:
            body.decode("utf-8")
            encoding: Literal["utf-8", "base64"] = "utf-8"
        except UnicodeDecodeError:
            encoding = "base64"
        if len(reason) > MAX_REASON:
            reason = reason[:MAX_REASON] + " [cut]"
        envelope = cls(
            reason=reason,
            body=_embedded(body, encoding),
            body_encoding=encoding,
            body_size=len(body),
            body_sha256=hashlib.sha256(body).hexdigest(),
            dequeue_count=dequeue_count,
        )
        if envelope.encoded_size() <= MAX_MESSAGE:
            return envelope
        # Too large: keep the longest start of the body that fits (escapes make JSON sizes uneven, so search).
        low, high = 0, len(body)
        while low < high:
            middle = (low + high + 1) // 2
            trial = envelope.model_copy(update={"body": _embedded(body[:middle], encoding)})
            low, high = (middle, high) if trial.encoded_size() <= MAX_MESSAGE else (low, middle - 1)
        envelope = envelope.model_copy(
            update={"body": _embedded(body[:low], encoding), "body_truncated": True}
        )
        return envelope

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True)

    def encoded_size(self) -> int:
        """The size of the queue message this envelope becomes (base64 of its UTF-8 JSON)."""
        return 4 * math.ceil(len(self.to_json().encode("utf-8")) / 3)

    def original_body(self) -> bytes:
        return base64.b64decode(self.body) if self.body_encoding == "base64" else self.body.encode("utf-8")


def _embedded(body: bytes, encoding: str) -> str:
    if encoding == "base64":
        return base64.b64encode(body).decode("ascii")
    return body.decode("utf-8", "ignore")  # a cut may split the last character; never anything else


class HarvestQueue:
    """The harvest queue and its poison queue, on the Functions storage account."""

    def __init__(self, connection: StorageConnection, name: str) -> None:
        self.name = name
        self._queue = connection.queue(name, message_encode_policy=TextBase64EncodePolicy())
        self._poison = connection.queue(f"{name}-poison", message_encode_policy=TextBase64EncodePolicy())
        self._ensured: set[str] = set()

    def _ensure(self, client: QueueClient) -> None:
        if client.queue_name in self._ensured:
            return
        with contextlib.suppress(ResourceExistsError):
            client.create_queue()
        self._ensured.add(client.queue_name)

    def send(self, request: HarvestRequest, *, delay_seconds: int | None = None) -> None:
        """Enqueue `request`; without a traceparent of its own it carries the current span's."""
        if request.traceparent is None:
            request = request.model_copy(update={"traceparent": telemetry.current_traceparent()})
        body = request.model_dump_json(exclude_none=True)
        if request.entity is not None and len(body.encode()) > MAX_REQUEST:
            # An entity too large for one message (a job of very many inputs whose URLs the service echoes):
            # the request goes without it, and the harvest asks the service for the job instead.
            body = request.model_copy(update={"entity": None}).model_dump_json(exclude_none=True)
        self._ensure(self._queue)
        self._queue.send_message(body, visibility_timeout=delay_seconds)

    def has_waiting(self) -> bool:
        """Whether a message waits visibly in the harvest queue (messages being processed are invisible)."""
        try:
            return bool(self._queue.peek_messages(max_messages=1))
        except ResourceNotFoundError:
            return False

    def poison(self, body: bytes, reason: str, *, dequeue_count: int | None = None) -> PoisonEnvelope:
        """Keep a message we cannot process, with its reason, as one poison message whatever its size;
        bytes that are not UTF-8 are kept as base64."""
        envelope = PoisonEnvelope.wrap(body, reason, dequeue_count=dequeue_count)
        self._ensure(self._poison)
        self._poison.send_message(envelope.to_json())
        return envelope

    def poison_length(self) -> int:
        """About how many messages wait on the poison queue (0 before it exists)."""
        try:
            return self._poison.get_queue_properties().approximate_message_count or 0
        except ResourceNotFoundError:
            return 0


def poisoned_request(content: str) -> HarvestRequest:
    """The harvest request a poison-queue message holds, whichever way it got there: wrapped by us in a
    PoisonEnvelope, or moved unchanged by the Functions host (base64 text, or raw text the host could not
    decode). BadMessageError says why a message holds no usable request."""
    try:
        data = base64.b64decode("".join(content.split()), validate=True)
    except ValueError:
        data = content.encode("utf-8")
    try:
        envelope = PoisonEnvelope.model_validate_json(data)
    except ValidationError:
        return parse_request(data)
    if envelope.body_truncated:
        raise BadMessageError(
            f"the poisoned body was cut to fit the queue (originally {envelope.body_size} bytes)"
        )
    return parse_request(envelope.original_body())

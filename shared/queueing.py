"""Harvest requests on the Storage queue, and the poison queue that keeps what could not be processed.

Messages are base64 text, as the Functions host expects. A message we cannot use is never dropped: it goes to
`<queue>-poison` wrapped with the reason, so ops can read why and replay it.
"""

from __future__ import annotations

import base64
import contextlib
from datetime import UTC, datetime
from enum import StrEnum

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import BinaryBase64DecodePolicy, QueueClient, TextBase64EncodePolicy
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.jsonbody import NotAJsonObject, json_object
from shared.layout import validate_job_id
from shared.states import JobKind


class RequestReason(StrEnum):
    POLL = "poll"
    RECONCILE = "reconcile"
    WEBHOOK = "webhook"
    REQUEUE = "requeue"
    CONTINUATION = "continuation"
    REPLAY = "replay"


class HarvestRequest(BaseModel):
    """The queue message: which job to harvest. Small on purpose; everything else is read fresh."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: JobKind = JobKind.TRANSCRIPTION
    id: str
    reason: RequestReason = RequestReason.POLL
    requested_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    def validated(self) -> HarvestRequest:
        validate_job_id(self.kind, self.id)
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
            f"{'.'.join(str(p) for p in item['loc']) or 'body'}: {item['msg']}" for item in error.errors()
        )
        raise BadMessageError(f"message is not a harvest request: {problems}") from None
    try:
        return request.validated()
    except ValueError as error:
        raise BadMessageError(str(error)) from None


class PoisonEnvelope(BaseModel):
    """What we put on the poison queue ourselves: the original body, untouched, and why it failed."""

    model_config = ConfigDict(frozen=True)

    reason: str
    body: str
    body_encoding: str = "utf-8"
    poisoned_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    dequeue_count: int | None = None


class HarvestQueue:
    """The harvest queue and its poison queue, on the Functions storage account."""

    def __init__(self, connection_string: str, name: str) -> None:
        self.name = name
        self._queue = QueueClient.from_connection_string(
            connection_string, name, message_encode_policy=TextBase64EncodePolicy()
        )
        self._poison = QueueClient.from_connection_string(
            connection_string, f"{name}-poison", message_encode_policy=TextBase64EncodePolicy()
        )
        self._ensured: set[str] = set()

    def _ensure(self, client: QueueClient) -> None:
        if client.queue_name in self._ensured:
            return
        with contextlib.suppress(ResourceExistsError):
            client.create_queue()
        self._ensured.add(client.queue_name)

    def send(self, request: HarvestRequest, *, delay_seconds: int | None = None) -> None:
        self._ensure(self._queue)
        self._queue.send_message(request.model_dump_json(), visibility_timeout=delay_seconds)

    def poison(self, body: bytes, reason: str, *, dequeue_count: int | None = None) -> None:
        """Keep a message we cannot process, with its reason; bytes that are not UTF-8 are kept as base64."""
        try:
            text, encoding = body.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = base64.b64encode(body).decode("ascii"), "base64"
        envelope = PoisonEnvelope(
            reason=reason, body=text, body_encoding=encoding, dequeue_count=dequeue_count
        )
        self._ensure(self._poison)
        self._poison.send_message(envelope.model_dump_json())


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
    if envelope.body_encoding == "base64":
        return parse_request(base64.b64decode(envelope.body))
    return parse_request(envelope.body.encode("utf-8"))


def poison_reader(connection_string: str, queue_name: str) -> QueueClient:
    """A client on `<queue>-poison` that decodes message bodies to bytes."""
    return QueueClient.from_connection_string(
        connection_string, f"{queue_name}-poison", message_decode_policy=BinaryBase64DecodePolicy()
    )

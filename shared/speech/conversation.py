"""Asynchronous conversation transcription (`offlinetask`): fetch and delete a conversation's transcription.

There is no Python SDK for it; the endpoint is a different host than batch transcription, but requests go
through the same stack (auth, rate limit, retries, typed errors).
"""

import re
from enum import StrEnum
from typing import Unpack
from urllib.parse import quote, urlsplit

from shared.speech.base import ClientOptions, SpeechEndpointClient
from shared.speech.wire import OpenEnum, WireModel

# Regional endpoints of public and sovereign clouds; custom domains (<name>.cognitiveservices.azure.com) do
# not name their region.
_REGIONAL_HOST = re.compile(
    r"^(?P<region>[a-z0-9]+)\.(?:api\.cognitive\.microsoft\.(?:com|us)|api\.cognitive\.azure\.cn"
    r"|stt\.speech\.microsoft\.com)$"
)


def conversation_endpoint(region: str) -> str:
    """The public-cloud conversation transcription endpoint of a region."""
    return f"https://transcribe.{region}.cts.speech.microsoft.com/api/v1/"


def region_from_endpoint(speech_endpoint: str) -> str | None:
    """`westus` from https://westus.api.cognitive.microsoft.com; None for custom domains and anything else."""
    match = _REGIONAL_HOST.match((urlsplit(speech_endpoint.strip()).hostname or "").lower())
    return match.group("region") if match else None


class ProcessingStatus(StrEnum):
    UPLOADING = "Uploading"
    PROCESSING = "Processing"
    COMPLETED = "Completed"
    FAILED = "Failed"
    DELETED = "Deleted"

    @property
    def is_terminal(self) -> bool:
        return self in (ProcessingStatus.COMPLETED, ProcessingStatus.FAILED, ProcessingStatus.DELETED)


class OfflineTranscription(WireModel):
    """One recognised utterance; `reason` is a Speech SDK ResultReason name (e.g. RecognizedSpeech)."""

    user_id: str | None = None
    result_id: str | None = None
    reason: str | None = None
    text: str | None = None
    duration_in_ticks: int | None = None  # 1 tick = 100 ns
    offset_in_ticks: int | None = None


class OfflineTask(WireModel):
    id: str | None = None
    processing_status: OpenEnum[ProcessingStatus] | None = None
    transcriptions: list[OfflineTranscription] | None = None

    @property
    def is_terminal(self) -> bool:
        return isinstance(self.processing_status, ProcessingStatus) and self.processing_status.is_terminal


class ConversationClient(SpeechEndpointClient):
    def __init__(self, endpoint: str, **options: Unpack[ClientOptions]) -> None:
        super().__init__(endpoint.rstrip("/") + "/", **options)

    def _url(self, conversation_id: str) -> str:
        return f"{self.endpoint}offlinetask?id={quote(conversation_id, safe='')}"

    def get(self, conversation_id: str) -> OfflineTask:
        """The conversation's transcription so far; NotFoundError for an unknown id."""
        return self.get_raw(conversation_id)[0]

    def get_raw(self, conversation_id: str) -> tuple[OfflineTask, bytes]:
        """The parsed answer and its body bytes exactly as received (the harvest keeps them byte-exact)."""
        response = self._pipeline.call("GET", self._url(conversation_id))
        return self._pipeline.parse(OfflineTask, response.data), response.content

    def delete(self, conversation_id: str) -> None:
        """Remove the stored transcription; one already gone (404) is fine, so redelivery is harmless."""
        self._pipeline.call("DELETE", self._url(conversation_id), accept=(200, 204, 404))

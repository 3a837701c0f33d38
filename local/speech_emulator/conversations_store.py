"""Conversations for the asynchronous conversation transcription (`offlinetask`) endpoint.

Audio upload is out of scope, so a conversation exists once the admin API creates it. Its status moves on the
same phase clock as batch jobs (Uploading, then Processing, then Completed, or Failed when the id contains
"fail") unless it was created pinned; a DELETE makes it Deleted for good. Its utterances are a pure function of
the id, built from the batch result generator, so a test can predict every text and tick.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from local.speech_emulator.results import utterance_at

DEFAULT_UTTERANCES = 4


class ProcessingStatus(StrEnum):
    UPLOADING = "Uploading"
    PROCESSING = "Processing"
    COMPLETED = "Completed"
    FAILED = "Failed"
    DELETED = "Deleted"


@dataclass(frozen=True)
class Utterance:
    user_id: str
    result_id: str
    text: str
    offset_ticks: int
    duration_ticks: int


@dataclass
class Conversation:
    id: str
    created: datetime
    phase: timedelta
    utterances: int = DEFAULT_UTTERANCES
    pinned: ProcessingStatus | None = None
    deleted: bool = False

    def status(self, now: datetime) -> ProcessingStatus:
        if self.deleted:
            return ProcessingStatus.DELETED
        if self.pinned is not None:
            return self.pinned
        elapsed = now - self.created
        if elapsed < self.phase:
            return ProcessingStatus.UPLOADING
        if elapsed < 2 * self.phase:
            return ProcessingStatus.PROCESSING
        return ProcessingStatus.FAILED if "fail" in self.id.lower() else ProcessingStatus.COMPLETED


def speaker_count(conversation_id: str) -> int:
    """Two or three participants, fixed by the id."""
    return 2 + hashlib.sha256(conversation_id.encode()).digest()[0] % 2


def utterances_of(conversation_id: str, count: int) -> list[Utterance]:
    """The conversation's recognised utterances in order; participants speak in turn (user-1, user-2, ...)."""
    speakers = speaker_count(conversation_id)
    utterances = []
    for index in range(count):
        text, offset, duration = utterance_at(f"offlinetask:{conversation_id}", index)
        utterances.append(
            Utterance(
                user_id=f"user-{index % speakers + 1}",
                result_id=uuid.uuid5(uuid.NAMESPACE_URL, f"offlinetask/{conversation_id}/{index}").hex,
                text=text,
                offset_ticks=offset,
                duration_ticks=duration,
            )
        )
    return utterances


class ConversationStore:
    """Conversations by id (ids are matched exactly); only touched from the server's event loop."""

    def __init__(self) -> None:
        self._conversations: dict[str, Conversation] = {}

    def put(self, conversation: Conversation) -> None:
        """Create, or replace one with the same id (tests re-create to pin another status)."""
        self._conversations[conversation.id] = conversation

    def get(self, conversation_id: str) -> Conversation | None:
        return self._conversations.get(conversation_id)

    def clear(self) -> None:
        self._conversations.clear()

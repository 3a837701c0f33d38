"""Wire format of the conversation transcription `offlinetask` answer (Speech SDK RemoteConversationTranscription)."""

from __future__ import annotations

from local.speech_emulator.wire import ResponseModel


class ConversationTranscription(ResponseModel):
    """One recognised utterance; `reason` is a Speech SDK ResultReason name, ticks are 100 ns."""

    user_id: str
    result_id: str
    reason: str
    text: str
    duration_in_ticks: int
    offset_in_ticks: int


class OfflineTaskOut(ResponseModel):
    id: str
    processing_status: str
    transcriptions: list[ConversationTranscription] | None = None  # only once Completed

"""The conversation transcription endpoint: GET and DELETE `{endpoint}offlinetask?id=<conversationId>`.

It is served under /conversations/api/v1 (the real endpoint's /api/v1 path), through the same pipeline as the
Speech API: same keys, throttle, faults and stats; the conversation id plays the part of the API version as
what is checked (400) before faults are drawn.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from local.speech_emulator.conversation_wire import ConversationTranscription, OfflineTaskOut
from local.speech_emulator.conversations_store import Conversation, ProcessingStatus, utterances_of
from local.speech_emulator.errors import invalid_request, not_found
from local.speech_emulator.faults import FaultEffects
from local.speech_emulator.render import json_response
from local.speech_emulator.state import EmulatorState

PREFIX = "/conversations/api/v1"
RECOGNIZED_SPEECH = "RecognizedSpeech"


def conversation_id(request: Request) -> str:
    value = request.query_params.get("id", "")
    if not value.strip():
        raise invalid_request(
            "The query parameter 'id' (the conversation id) is required.", "InvalidParameterValue"
        )
    return value


def _find(state: EmulatorState, conversation: str) -> Conversation:
    found = state.conversations.get(conversation)
    if found is None:
        raise not_found("conversation")
    return found


def render_offline_task(conversation: Conversation, status: ProcessingStatus) -> OfflineTaskOut:
    transcriptions = None
    if status is ProcessingStatus.COMPLETED:
        transcriptions = [
            ConversationTranscription(
                user_id=utterance.user_id,
                result_id=utterance.result_id,
                reason=RECOGNIZED_SPEECH,
                text=utterance.text,
                duration_in_ticks=utterance.duration_ticks,
                offset_in_ticks=utterance.offset_ticks,
            )
            for utterance in utterances_of(conversation.id, conversation.utterances)
        ]
    return OfflineTaskOut(id=conversation.id, processing_status=status.value, transcriptions=transcriptions)


async def get_offline_task(
    request: Request, conversation: str, state: EmulatorState, effects: FaultEffects
) -> Response:
    found = _find(state, conversation)
    return json_response(render_offline_task(found, found.status(state.clock())))


async def delete_offline_task(
    request: Request, conversation: str, state: EmulatorState, effects: FaultEffects
) -> Response:
    """200 with no body; the conversation stays known as Deleted, so a repeated DELETE is also a 200."""
    _find(state, conversation).deleted = True
    return Response(status_code=200)

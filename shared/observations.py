"""What the services say about a job, reduced to the Observation the ledger keeps (shared.states decides).

One function per job kind; the poller, the web hook, the submission and the harvest all use these, so a
transcription or a conversation is described the same way whoever looked at it.
"""

from __future__ import annotations

from datetime import datetime

from shared.speech import OfflineTask, Transcription, parse_iso_duration
from shared.states import JobKind, Observation


def observation_of(transcription: Transcription) -> Observation:
    """Reduce a batch transcription entity (any API version) to what the ledger keeps."""
    props = transcription.properties
    ttl_hours = None
    if props is not None:
        ttl_hours = props.time_to_live_hours
        if ttl_hours is None and props.time_to_live is not None:
            seconds = parse_iso_duration(props.time_to_live)
            ttl_hours = int(seconds // 3600) if seconds else None
    error = transcription.error
    return Observation(
        kind=JobKind.TRANSCRIPTION,
        id=transcription.id,
        service_status=str(transcription.status),
        created=transcription.created_date_time,
        last_action=transcription.last_action_date_time,
        display_name=transcription.display_name,
        locale=transcription.locale,
        ttl_hours=ttl_hours,
        error_code=error.code if error is not None else None,
    )


def conversation_status(task: OfflineTask) -> str:
    return str(task.processing_status) if task.processing_status is not None else "Unknown"


def conversation_observation(conversation_id: str, task: OfflineTask, now: datetime) -> Observation:
    """A conversation as `offlinetask` describes it; `now` is when we asked (conversations are polled one GET
    each, the least recently checked first)."""
    return Observation(
        kind=JobKind.CONVERSATION,
        id=conversation_id,
        service_status=conversation_status(task),
        last_checked=now,
    )

"""Conversation transcription's pure parts: phrases from an offlinetask answer, and who is polled next."""

from datetime import UTC, datetime, timedelta

from shared.conversations import (
    conversation_header,
    conversation_phrases,
    due_for_check,
    utterance_problems,
)
from shared.speech import OfflineTask
from shared.states import JobKind, JobRecord, LedgerState, Observation, observe

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

TASK = OfflineTask.model_validate(
    {
        "id": "meeting-1",
        "processingStatus": "Completed",
        "transcriptions": [
            {
                "userId": "bob",
                "text": "Fine, thanks.",
                "offsetInTicks": 32_000_000,
                "durationInTicks": 9_000_000,
            },
            {
                "userId": "alice",
                "text": "Hello Bob.",
                "offsetInTicks": 5_000_000,
                "durationInTicks": 15_000_000,
            },
            {"userId": "alice", "reason": "NoMatch", "text": "", "offsetInTicks": 1, "durationInTicks": 1},
            {"userId": "carol", "text": "Where am I?", "durationInTicks": 1_000_000},
        ],
    }
)


def test_phrases_are_in_time_order_with_user_ids_as_speakers_and_seconds():
    phrases = conversation_phrases(TASK)
    assert [(p.speaker, p.start, p.end, p.display, p.lexical) for p in phrases] == [
        ("alice", 0.5, 2.0, "Hello Bob.", "Hello Bob."),
        ("bob", 3.2, 4.1, "Fine, thanks.", "Fine, thanks."),
    ]


def test_header_lists_speakers_in_order_of_speaking_and_the_duration():
    header = conversation_header(conversation_phrases(TASK))
    assert header.kind == "conversation"
    assert header.speakers == ["alice", "bob"]
    assert header.duration_seconds == 4.1


def test_utterances_that_cannot_be_placed_in_time_are_reported():
    assert utterance_problems(TASK) == ["transcriptions[3]: text without offsetInTicks"]


def test_an_empty_conversation_has_no_phrases_and_no_duration():
    empty = OfflineTask.model_validate({"id": "x", "processingStatus": "Completed", "transcriptions": None})
    assert conversation_phrases(empty) == []
    assert conversation_header([]).duration_seconds is None


def record(
    job_id: str, *, checked_minutes_ago: int | None, state=LedgerState.PENDING, tracked=True
) -> JobRecord:
    return JobRecord(
        kind=JobKind.CONVERSATION,
        id=job_id,
        state=state,
        service_status="Processing",
        first_seen=NOW - timedelta(hours=1),
        last_checked=None if checked_minutes_ago is None else NOW - timedelta(minutes=checked_minutes_ago),
        tracked=tracked,
    )


def test_never_checked_first_then_the_least_recently_checked_up_to_the_limit():
    records = [
        record("recent", checked_minutes_ago=1),
        record("old", checked_minutes_ago=30),
        record("new", checked_minutes_ago=None),
        record("queued", checked_minutes_ago=90, state=LedgerState.QUEUED),
        record("untracked", checked_minutes_ago=None, tracked=False),
    ]
    assert [r.id for r in due_for_check(records, 2)] == ["new", "old"]
    assert [r.id for r in due_for_check(records, 10)] == ["new", "old", "recent"]
    assert due_for_check(records, 0) == []


def test_a_check_is_recorded_even_when_nothing_else_changed():
    pending = record("c", checked_minutes_ago=5)
    seen = Observation(kind=JobKind.CONVERSATION, id="c", service_status="Processing", last_checked=NOW)
    decision = observe(pending, seen, NOW, source="poll")
    assert decision.record.last_checked == NOW
    assert decision.record.state is LedgerState.PENDING
    assert not decision.enqueue


def test_completed_and_failed_conversations_are_queued_once():
    for status in ("Completed", "Failed"):
        seen = Observation(kind=JobKind.CONVERSATION, id="c", service_status=status, last_checked=NOW)
        decision = observe(record("c", checked_minutes_ago=5), seen, NOW, source="poll")
        assert decision.record.state is LedgerState.QUEUED
        assert decision.enqueue
        again = observe(decision.record, seen, NOW, source="poll")
        assert not again.enqueue

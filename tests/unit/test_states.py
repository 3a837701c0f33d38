from datetime import UTC, datetime, timedelta

import pytest

from shared.states import (
    JobKind,
    JobRecord,
    LedgerState,
    Observation,
    found_unfinished,
    harvest_finished,
    harvest_started,
    heartbeat,
    is_lost,
    needs_requeue,
    observe,
    resend,
    track,
    warning_for,
)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
JOB = "5cff1d03-118f-4c4c-b3ba-e1f1cd88c14d"


def seen(status: str, **kw) -> Observation:
    return Observation(id=JOB, service_status=status, last_action=NOW, **kw)


def test_new_running_job_is_pending_and_not_enqueued():
    decision = observe(None, seen("Running"), NOW, source="poll")
    assert decision.record is not None
    assert decision.record.state is LedgerState.PENDING
    assert not decision.enqueue


def test_new_finished_job_is_queued_once():
    decision = observe(None, seen("Succeeded"), NOW, source="poll")
    assert decision.record.state is LedgerState.QUEUED
    assert decision.enqueue
    again = observe(decision.record, seen("Succeeded"), NOW, source="webhook")
    assert again.record is None
    assert not again.enqueue


def test_pending_job_that_fails_is_enqueued_too():
    pending = observe(None, seen("Running"), NOW, source="poll").record
    decision = observe(pending, seen("Failed", error_code="InvalidData"), NOW, source="poll")
    assert decision.enqueue
    assert decision.record.state is LedgerState.QUEUED
    assert decision.record.error_code == "InvalidData"
    assert decision.previous_state is LedgerState.PENDING


def test_unchanged_observation_writes_nothing():
    pending = observe(None, seen("Running"), NOW, source="poll").record
    assert observe(pending, seen("Running"), NOW, source="poll").record is None


def test_harvested_job_never_goes_back():
    queued = observe(None, seen("Succeeded"), NOW, source="poll").record
    done = harvest_finished(queued, NOW, "m.json", "Succeeded", kind=JobKind.TRANSCRIPTION, job_id=JOB).record
    decision = observe(done, seen("Succeeded"), NOW + timedelta(hours=1), source="reconcile")
    assert not decision.enqueue
    assert decision.record is None


def test_missing_job_that_reappears_finished_is_enqueued():
    record = observe(None, seen("Running"), NOW, source="poll").record.model_copy(
        update={"state": LedgerState.MISSING}
    )
    decision = observe(record, seen("Succeeded"), NOW, source="reconcile")
    assert decision.enqueue


def test_track_marks_existing_and_new_records():
    record = track(None, JobKind.TRANSCRIPTION, JOB, NOW, source="submit")
    assert record.tracked
    assert record.state is LedgerState.PENDING
    assert track(record, JobKind.TRANSCRIPTION, JOB, NOW, source="submit") is record


def test_requeue_only_after_the_deadline():
    queued = observe(None, seen("Succeeded"), NOW, source="poll").record
    assert not needs_requeue(queued, NOW + timedelta(minutes=29), timedelta(minutes=30))
    assert needs_requeue(queued, NOW + timedelta(minutes=30), timedelta(minutes=30))
    done = harvest_finished(queued, NOW, "m", "Succeeded", kind=JobKind.TRANSCRIPTION, job_id=JOB).record
    assert not needs_requeue(done, NOW + timedelta(days=1), timedelta(minutes=30))


def test_warning_for_overdue_pending_job_and_not_repeated_too_often():
    pending = observe(None, seen("NotStarted", created=NOW - timedelta(hours=3)), NOW, source="poll").record
    kw = {"pending_after": timedelta(hours=2), "ttl_margin": timedelta(hours=6), "repeat": timedelta(hours=1)}
    message = warning_for(pending, NOW, **kw)
    assert message is not None
    assert "NotStarted for 180 min" in message
    warned = pending.model_copy(update={"warned_at": NOW})
    assert warning_for(warned, NOW + timedelta(minutes=30), **kw) is None
    assert warning_for(warned, NOW + timedelta(minutes=61), **kw) is not None


def test_warning_when_time_to_live_nears_its_end():
    queued = observe(
        None,
        Observation(id=JOB, service_status="Succeeded", last_action=NOW, ttl_hours=48),
        NOW,
        source="poll",
    ).record
    kw = {"pending_after": timedelta(hours=2), "ttl_margin": timedelta(hours=6), "repeat": timedelta(hours=1)}
    assert warning_for(queued, NOW + timedelta(hours=41), **kw) is None
    message = warning_for(queued, NOW + timedelta(hours=43), **kw)
    assert message is not None
    assert "5.0 h" in message


def harvesting_since(started):
    queued = observe(None, seen("Succeeded"), started, source="poll").record
    return harvest_started(queued, started, kind=JobKind.TRANSCRIPTION, job_id=JOB).record


def test_a_harvest_whose_heartbeat_stopped_is_lost_whatever_the_queue_holds():
    running = harvesting_since(NOW)
    assert not is_lost(running, NOW + timedelta(seconds=89), after=timedelta(minutes=30), queue_idle=False)
    assert is_lost(running, NOW + timedelta(seconds=90), after=timedelta(minutes=30), queue_idle=False)
    beating = heartbeat(running, NOW + timedelta(seconds=80)).record
    assert not is_lost(beating, NOW + timedelta(seconds=120), after=timedelta(minutes=30), queue_idle=False)


def test_a_queued_job_is_lost_early_only_when_no_message_waits():
    queued = observe(None, seen("Succeeded"), NOW, source="poll").record
    later = NOW + timedelta(minutes=2)
    assert is_lost(queued, later, after=timedelta(minutes=30), queue_idle=True)
    assert not is_lost(queued, later, after=timedelta(minutes=30), queue_idle=False)
    assert not is_lost(queued, NOW + timedelta(seconds=100), after=timedelta(minutes=30), queue_idle=True)


def test_resend_queues_again_and_asks_to_enqueue_once():
    running = harvesting_since(NOW)
    decision = resend(running, NOW + timedelta(minutes=2), after=timedelta(minutes=30), queue_idle=False)
    assert decision.enqueue
    assert decision.record.state is LedgerState.QUEUED
    assert decision.record.enqueue_count == running.enqueue_count + 1
    again = resend(decision.record, NOW + timedelta(minutes=2), after=timedelta(minutes=30), queue_idle=False)
    assert again.record is None


@pytest.mark.parametrize("kind", list(JobKind))
def test_found_unfinished_goes_back_to_pending_for_every_kind(kind):
    queued = JobRecord(
        kind=kind, id="x-1", state=LedgerState.QUEUED, service_status="Succeeded", first_seen=NOW
    )
    running = Observation(kind=kind, id="x-1", service_status="Running")
    decision = found_unfinished(queued, NOW, running)
    assert decision.record.state is LedgerState.PENDING
    assert not decision.enqueue
    harvested = queued.model_copy(update={"state": LedgerState.HARVESTED})
    assert found_unfinished(harvested, NOW, running).record is None

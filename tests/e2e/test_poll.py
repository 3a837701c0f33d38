"""Poll behaviours over Azurite and the emulator: discovery modes, first-start limits, lost requests, overdue jobs."""

from datetime import UTC, datetime, timedelta

import pytest

from shared.poll import Poller
from shared.states import JobKind, LedgerState, track

pytestmark = pytest.mark.e2e


def poller(stack, clock=None):
    parts = stack.parts
    return Poller(
        parts.settings, parts.speech, parts.ledger, parts.queue, clock=clock or (lambda: datetime.now(UTC))
    )


def test_tracked_discovery_records_only_our_jobs(make_stack):
    stack = make_stack(DISCOVERY="tracked")
    ours, theirs = stack.emulator.admin.seed(2, status="Succeeded")
    stack.parts.ledger.save(track(None, JobKind.TRANSCRIPTION, ours, datetime.now(UTC), source="submit"))
    report = poller(stack).tick()
    assert report.listed == 2
    assert report.enqueued_ids == [ours]
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, theirs) is None
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, ours).state is LedgerState.QUEUED


def test_first_start_reaches_no_further_back_than_discover_since(make_stack):
    now = datetime.now(UTC).replace(microsecond=0)
    stack = make_stack(DISCOVER_SINCE=(now - timedelta(days=1)).isoformat())
    old = stack.emulator.admin.seed(3, status="Succeeded", created=now - timedelta(days=3))
    recent = stack.emulator.admin.seed(2, status="Succeeded", created=now - timedelta(hours=1))
    report = poller(stack).tick()
    assert report.backfill
    assert sorted(report.enqueued_ids) == sorted(recent)
    assert all(stack.parts.ledger.get(JobKind.TRANSCRIPTION, i) is None for i in old)


def test_lost_harvest_request_is_enqueued_again(make_stack):
    stack = make_stack(REQUEUE_AFTER_MINUTES="30")
    [job] = stack.emulator.admin.seed(1, status="Succeeded")
    clock = {"now": datetime.now(UTC)}
    p = poller(stack, lambda: clock["now"])
    p.tick()
    assert len(stack.drain()) == 1  # the message is lost (say, the worker crashed before the queue kept it)
    clock["now"] += timedelta(minutes=31)
    report = p.tick()
    assert report.requeued == 1
    [body] = stack.drain()
    assert job in body.decode()
    assert b'"reason":"requeue"' in body


def test_overdue_job_is_warned_about_and_found_missing_when_deleted(make_stack, caplog):
    stack = make_stack(PENDING_WARNING_MINUTES="60")
    started = datetime.now(UTC) - timedelta(minutes=30)
    [job] = stack.emulator.admin.seed(1, status="Running", created=started, last_action=started)
    clock = {"now": datetime.now(UTC)}
    p = poller(stack, lambda: clock["now"])
    assert p.tick().warnings == 0
    stack.speech.delete_transcription(job)
    clock["now"] += timedelta(minutes=40)
    with caplog.at_level("WARNING"):
        report = p.tick()
    assert report.warnings == 1
    assert report.missing == 1
    assert f"job_warning kind=transcription id={job}" in caplog.text
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, job).state is LedgerState.MISSING


def test_watermark_follows_the_service_clock_not_ours(make_stack):
    """A host clock a day ahead must not make the next tick skip changes: the watermark is the service's time."""
    stack = make_stack()
    [job] = stack.emulator.admin.seed(1, status="Running")
    skewed = poller(stack, lambda: datetime.now(UTC) + timedelta(days=1))
    report = skewed.tick()
    service_now = stack.emulator.admin.server_time()
    assert report.watermark <= service_now
    assert service_now - report.watermark < timedelta(seconds=30)
    stack.emulator.admin.complete(job, "Succeeded")
    assert skewed.tick().enqueued_ids == [job]

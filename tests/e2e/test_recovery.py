"""Lost harvest requests, for both job kinds, over Azurite and the emulator: the one re-send loop (shared.records.
resend_lost, rule shared.states.is_lost) runs on every poll tick; a harvest keeps a heartbeat in the ledger."""

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from opentelemetry import trace

from shared import runtime
from shared.conversations import ConversationPoller
from shared.harvest import Harvester, Outcome
from shared.poll import Poller
from shared.queueing import HarvestRequest, parse_request
from shared.records import decide_and_save
from shared.states import JobKind, LedgerState, harvest_started
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.e2e


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def both_kinds(make_stack, fresh_emulator):
    return make_stack(CONVERSATION_ENDPOINT=f"{fresh_emulator.endpoint}/conversations/api/v1/")


def queued_job(stack, kind: JobKind, clock: Clock) -> tuple[str, object]:
    """A finished job moved to Queued by its kind's poller (whose tick is returned, to be run again)."""
    parts = stack.parts
    if kind is JobKind.TRANSCRIPTION:
        [job] = stack.emulator.admin.seed(1, status="Succeeded")
        poller = Poller(parts.settings, parts.speech, parts.ledger, parts.queue, clock=clock)
    else:
        job = "meeting-lost-1"
        stack.emulator.admin.create_conversation(job, status="Completed")
        assert runtime.track_conversation(job, parts).status == 202
        poller = ConversationPoller(
            parts.settings, parts.conversations, parts.ledger, parts.queue, clock=clock
        )
    poller.tick()
    assert parts.ledger.get(kind, job).state is LedgerState.QUEUED
    return job, poller


@pytest.mark.parametrize("kind", list(JobKind))
def test_a_queued_job_whose_message_was_lost_is_sent_again_within_minutes(both_kinds, kind):
    stack, clock = both_kinds, Clock()
    job, poller = queued_job(stack, kind, clock)
    assert len(stack.drain()) == 1  # lost: say, a crash between the ledger write and the send
    clock.now += timedelta(seconds=90)
    assert poller.tick().requeued == 0  # too early to tell a lost message from a slow one
    clock.now += timedelta(seconds=40)
    assert poller.tick().requeued == 1
    [body] = stack.drain()
    assert parse_request(body).id == job
    assert parse_request(body).reason.value == "requeue"
    runtime.handle_message(body, 1, stack.parts)
    assert stack.parts.ledger.get(kind, job).state is LedgerState.HARVESTED


def trace_of(body: bytes) -> int:
    """The trace id a harvest request on the queue carries."""
    traceparent = parse_request(body).traceparent
    assert traceparent is not None
    return int(traceparent.split("-")[1], 16)


@pytest.mark.parametrize("kind", list(JobKind))
def test_a_lost_request_is_sent_again_in_the_jobs_trace_not_the_ticks(both_kinds, kind, otel):
    stack, clock, tracer = both_kinds, Clock(), trace.get_tracer("test")
    with tracer.start_as_current_span("poll") as first_tick:
        job, poller = queued_job(stack, kind, clock)
    [lost] = stack.drain()
    assert trace_of(lost) != first_tick.get_span_context().trace_id  # the job's own trace, kept in its row
    clock.now += timedelta(minutes=3)
    with tracer.start_as_current_span("poll") as later_tick:
        assert poller.tick().requeued == 1
    [again] = stack.drain()
    assert parse_request(again).id == job
    assert trace_of(again) == trace_of(lost) != later_tick.get_span_context().trace_id


@pytest.mark.parametrize("kind", list(JobKind))
def test_a_queued_job_behind_a_backlog_is_not_sent_twice(both_kinds, kind):
    stack, clock = both_kinds, Clock()
    _, poller = queued_job(stack, kind, clock)  # its message waits in the queue
    clock.now += timedelta(minutes=5)
    assert poller.tick().requeued == 0
    clock.now += timedelta(minutes=26)  # REQUEUE_AFTER_MINUTES (30): re-sent whatever the queue holds
    assert poller.tick().requeued == 1
    assert len(stack.drain()) == 2


@pytest.mark.parametrize("kind", list(JobKind))
def test_a_harvest_whose_heartbeat_stopped_is_sent_again(both_kinds, kind):
    stack, clock = both_kinds, Clock()
    job, poller = queued_job(stack, kind, clock)
    assert len(stack.drain()) == 1
    # A harvester took the message and died mid-harvest: Harvesting, its message invisible (held by the dead host).
    decide_and_save(
        stack.parts.ledger,
        kind,
        job,
        lambda r: harvest_started(r, clock.now, kind=kind, job_id=job),
        clock.now,
    )
    stack.parts.queue.send(HarvestRequest(kind=kind, id="00000000-0000-0000-0000-000000000000"))  # a backlog
    clock.now += timedelta(seconds=60)
    assert poller.tick().requeued == 0
    clock.now += timedelta(seconds=31)
    assert poller.tick().requeued == 1
    resent = [parse_request(b) for b in stack.drain()]
    assert [r.id for r in resent if r.reason.value == "requeue"] == [job]


def test_a_harvest_in_progress_keeps_its_heartbeat(make_stack):
    stack = make_stack()
    [job] = stack.emulator.admin.seed(1, status="Succeeded")
    runtime.poller(stack.parts).tick()
    [body] = stack.drain()
    ledger = stack.parts.ledger
    beats = []

    class Watched(Harvester):
        def write(self, job_id, found, started, written):
            first = ledger.get(JobKind.TRANSCRIPTION, job_id).heartbeat_at
            beats.append(first)
            # The harvest is "slow": it goes on only once the heartbeat thread has written a newer beat.
            beats.append(
                wait_for(
                    lambda: (b := ledger.get(JobKind.TRANSCRIPTION, job_id).heartbeat_at) > first and b,
                    what="a heartbeat",
                )
            )
            return super().write(job_id, found, started, written)

    base = runtime.harvester(stack.parts)
    watched = Watched(
        **{f.name: getattr(base, f.name) for f in dataclasses.fields(base)} | {"heartbeat_every": 0.05}
    )
    assert watched.harvest(parse_request(body)) is Outcome.HARVESTED
    assert beats[0] is not None
    assert beats[1] > beats[0]
    record = ledger.get(JobKind.TRANSCRIPTION, job)
    assert record.state is LedgerState.HARVESTED
    assert record.heartbeat_at is None


@pytest.mark.parametrize("kind", list(JobKind))
def test_a_job_found_unfinished_goes_back_to_pending_and_is_enqueued_when_it_finishes(both_kinds, kind):
    stack = both_kinds
    parts = stack.parts
    if kind is JobKind.TRANSCRIPTION:
        [job] = stack.emulator.admin.seed(1, status="Running")
        done = lambda: stack.emulator.admin.complete(job)  # noqa: E731
    else:
        job = "meeting-early-1"
        stack.emulator.admin.create_conversation(job, status="Processing")
        assert runtime.track_conversation(job, parts).status == 202
        done = lambda: stack.emulator.admin.create_conversation(job, status="Completed")  # noqa: E731
    runtime.poll_tick(parts)
    assert parts.ledger.get(kind, job).state is LedgerState.PENDING
    # An early harvest request (say, a replay) for the unfinished job:
    runtime.handle_message(HarvestRequest(kind=kind, id=job).model_dump_json().encode(), 1, parts)
    assert parts.ledger.get(kind, job).state is LedgerState.PENDING
    done()
    runtime.poll_tick(parts)
    [body] = stack.drain()
    runtime.handle_message(body, 1, parts)
    assert parts.ledger.get(kind, job).state is LedgerState.HARVESTED

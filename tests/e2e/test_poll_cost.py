"""Speech API calls per poll tick at N = 1,000 transcriptions, counted by the emulator.

Budget (issue 3): idle ticks at most 2 calls averaged over any hour; a tick with k changed jobs at most
ceil(k/100) + 2. The first start backfills everything once.
"""

import math
from datetime import UTC, datetime, timedelta

import pytest

from shared import runtime
from shared.poll import Poller
from shared.states import JobKind, LedgerState
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.e2e

N = 1000


def calls(stack) -> int:
    return stack.emulator.admin.stats().total


@pytest.fixture
def seeded(make_stack):
    stack = make_stack(REQUEUE_AFTER_MINUTES="100000")
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    done = stack.emulator.admin.seed(
        N - 150, status="Succeeded", created=two_hours_ago, last_action=two_hours_ago
    )
    running = stack.emulator.admin.seed(
        150, status="Running", created=two_hours_ago, last_action=two_hours_ago
    )
    return stack, done, running


def test_backfill_then_idle_then_k_changed(seeded):
    stack, _, running = seeded
    poller = runtime.poller(stack.parts)

    stack.emulator.admin.reset_stats()
    first = poller.tick()
    assert first.backfill
    assert calls(stack) == math.ceil(N / 100)
    assert first.enqueued == N - 150
    assert stack.parts.ledger.counts()["transcription"] == {"Queued": N - 150, "Pending": 150}

    stack.emulator.admin.reset_stats()
    idle = poller.tick()
    assert calls(stack) == 1
    assert idle.enqueued == 0

    for job_id in running:
        stack.emulator.admin.complete(job_id, "Succeeded")
    last_change = datetime.now(UTC).replace(microsecond=0)
    # The service stamps changes to the second, and the watermark is the service's clock (its Date header):
    # let that clock leave the second of the last change, as it would between two minute ticks.
    wait_for(
        lambda: stack.emulator.admin.server_time() > last_change,
        what="the service's clock to reach the next second",
    )

    stack.emulator.admin.reset_stats()
    changed = poller.tick()
    assert changed.enqueued == 150
    assert calls(stack) <= math.ceil(150 / 100) + 2
    assert set(changed.enqueued_ids) == set(running)

    stack.emulator.admin.reset_stats()
    poller.tick()
    assert calls(stack) == 1
    assert stack.parts.ledger.counts()["transcription"] == {"Queued": N}


def test_an_hour_of_idle_ticks_including_a_full_reconcile(seeded):
    """Sixty one-minute ticks with a reconcile due: the sweep is spread out, one page a tick."""
    stack, done, _ = seeded
    start = datetime.now(UTC)
    clock = {"now": start}
    poller = Poller(
        stack.settings, stack.parts.speech, stack.parts.ledger, stack.parts.queue, clock=lambda: clock["now"]
    )
    poller.tick()  # first start: the backfill

    # A job the incremental list cannot see (its lastActionDateTime is old) is found by the reconcile.
    record = stack.parts.ledger.get(JobKind.TRANSCRIPTION, done[0])
    stack.parts.ledger.save(
        record.model_copy(update={"state": LedgerState.PENDING, "service_status": "Running"})
    )

    per_tick = []
    for minute in range(1, 121):
        clock["now"] = start + timedelta(minutes=minute)
        stack.emulator.admin.reset_stats()
        report = poller.tick()
        per_tick.append(calls(stack))
        assert per_tick[-1] <= 2, f"tick {minute} cost {per_tick[-1]} calls"
        if report.reconcile_finished:
            break
    assert report.reconcile_finished
    hour = per_tick[-60:]
    assert sum(hour) / len(hour) <= 2
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, done[0]).state is LedgerState.QUEUED

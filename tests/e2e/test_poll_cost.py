"""Speech API calls per poll tick at N = 1,000 transcriptions, counted by the emulator.

Budget (issue 3): idle ticks at most 2 calls averaged over any hour; a tick with k changed jobs at most
ceil(k/100) + 2. The first start backfills everything once. The safety net behind the incremental list (the
hourly delta sweep, the complete sweep) catches what that list misses.
"""

import math
from datetime import UTC, datetime, timedelta

import pytest
from azure.data.tables import TableClient

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


def minute_poller(stack, start: datetime) -> tuple[Poller, dict[str, datetime]]:
    """A poller on the app's real parts whose clock the test moves a minute a tick (the default schedule)."""
    clock = {"now": start}
    poller = Poller(
        stack.settings, stack.parts.speech, stack.parts.ledger, stack.parts.queue, clock=lambda: clock["now"]
    )
    return poller, clock


def test_an_hour_of_idle_ticks_with_both_sweeps_under_way(make_stack):
    """Sixty one-minute ticks in which the delta sweep runs and the complete sweep (here due every hour, its
    shortest interval, the most it can cost) lists every job: no tick over 2 calls, at most 2 on average."""
    stack = make_stack(REQUEUE_AFTER_MINUTES="100000", FULL_RECONCILE_HOURS="1")
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    stack.emulator.admin.seed(N, status="Succeeded", created=two_hours_ago, last_action=two_hours_ago)
    start = datetime.now(UTC)
    poller, clock = minute_poller(stack, start)
    poller.tick()  # first start: the backfill

    per_tick, delta, complete = [], 0, 0
    for minute in range(61, 121):
        clock["now"] = start + timedelta(minutes=minute)
        stack.emulator.admin.reset_stats()
        report = poller.tick()
        per_tick.append(calls(stack))
        assert per_tick[-1] <= 2, f"tick {minute} cost {per_tick[-1]} calls"
        delta += report.delta_finished
        complete += report.reconcile_finished
    assert (delta, complete) == (1, 1)
    assert sum(per_tick) >= 60 + 1 + math.ceil(N / 100)  # every job was listed again
    assert sum(per_tick) / len(per_tick) <= 2


def test_a_change_the_incremental_list_missed_is_caught_by_the_next_delta_sweep(make_stack):
    """A job whose change shows in the list only after the incremental list read past its stamp (the emulator
    backdates the change): the next tick misses it, the hourly delta sweep finds it."""
    stack = make_stack(REQUEUE_AFTER_MINUTES="100000")
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    stack.emulator.admin.seed(20, status="Succeeded", created=two_hours_ago, last_action=two_hours_ago)
    [late] = stack.emulator.admin.seed(1, status="Running", created=two_hours_ago, last_action=two_hours_ago)
    start = datetime.now(UTC)
    poller, clock = minute_poller(stack, start)
    backfill = poller.tick()
    assert backfill.watermark is not None

    stack.emulator.admin.complete(late, "Succeeded", stamped=backfill.watermark - timedelta(minutes=2))
    missed = []
    for minute in range(1, 61):
        clock["now"] = start + timedelta(minutes=minute)
        report = poller.tick()
        if report.delta_finished:
            break
        missed.append(stack.parts.ledger.get(JobKind.TRANSCRIPTION, late).state)
    assert report.delta_finished
    assert minute == 60  # the delta sweep is hourly
    assert set(missed) == {LedgerState.PENDING}  # 59 incremental lists did not see the change
    assert late in report.enqueued_ids
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, late).state is LedgerState.QUEUED


def test_the_complete_sweep_finds_a_job_the_ledger_lost_and_the_delta_sweep_does_not(make_stack):
    stack = make_stack(
        REQUEUE_AFTER_MINUTES="100000", RECONCILE_INTERVAL_MINUTES="10", FULL_RECONCILE_HOURS="1"
    )
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    done = stack.emulator.admin.seed(
        250, status="Succeeded", created=two_hours_ago, last_action=two_hours_ago
    )
    start = datetime.now(UTC)
    poller, clock = minute_poller(stack, start)
    poller.tick()
    lost = done[-1]
    TableClient.from_connection_string(
        stack.azurite.connection_string, table_name=stack.settings.ledger_table
    ).delete_entity(JobKind.TRANSCRIPTION.value, lost)

    deltas, found_at = 0, None
    for minute in range(1, 121):
        clock["now"] = start + timedelta(minutes=minute)
        report = poller.tick()
        deltas += report.delta_finished
        if found_at is None and stack.parts.ledger.get(JobKind.TRANSCRIPTION, lost) is not None:
            found_at = minute
        if report.reconcile_finished:
            break
    assert report.reconcile_finished
    assert deltas >= 5  # five delta sweeps ran before the complete sweep began, and did not bring it back
    assert found_at is not None
    assert found_at >= 60, f"found at minute {found_at}, before the complete sweep began"
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, lost).state is LedgerState.QUEUED


def test_jobs_deleted_while_the_complete_sweep_is_under_way_do_not_make_it_skip_one(make_stack):
    """The list pages by position: ten jobs deleted between two of the sweep's ticks move the job that was the
    first of the next page to the end of the page already listed. The sweep still finds it."""
    stack = make_stack(REQUEUE_AFTER_MINUTES="100000", FULL_RECONCILE_HOURS="1")
    admin = stack.emulator.admin
    two_hours_ago = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    first_page = admin.seed(100, created=two_hours_ago, last_action=two_hours_ago)
    [lost] = admin.seed(1, created=two_hours_ago + timedelta(seconds=1), last_action=two_hours_ago)
    admin.seed(100, created=two_hours_ago + timedelta(seconds=2), last_action=two_hours_ago)
    start = datetime.now(UTC)
    poller, clock = minute_poller(stack, start)
    poller.tick()
    TableClient.from_connection_string(
        stack.azurite.connection_string, table_name=stack.settings.ledger_table
    ).delete_entity(JobKind.TRANSCRIPTION.value, lost)

    deleted = False
    for minute in range(1, 121):
        clock["now"] = start + timedelta(minutes=minute)
        report = poller.tick()
        if report.reconcile_finished:
            break
        if not deleted and stack.parts.ledger.poller_state("transcriptions").reconcile_skip == 100:
            for job_id in first_page[:10]:  # their time to live ran out
                stack.parts.speech.delete_transcription(job_id)
            deleted = True
    assert deleted
    assert report.reconcile_finished
    assert stack.parts.ledger.get(JobKind.TRANSCRIPTION, lost) is not None

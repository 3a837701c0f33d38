"""The past-due decision at start-up and the status kept after runs (pure: the host's ScheduleMonitor rules)."""

from datetime import UTC, datetime, timedelta

from local.host.ncrontab import parse_schedule
from local.host.schedule_monitor import NEVER, ScheduleStatus, check_past_due, status_after_run

HOURLY = parse_schedule("0 0 * * * *", {}, UTC)
NOW = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)


def test_first_start_records_the_next_occurrence_and_is_not_past_due():
    check = check_past_due(NOW, HOURLY, None)
    assert check.store
    assert not check.past_due
    assert check.status.next == datetime(2024, 5, 1, 13, 0, tzinfo=UTC)


def test_stored_next_in_the_past_is_past_due():
    last = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    stored = ScheduleStatus(last=last, next=last + timedelta(hours=1), last_updated=last)
    check = check_past_due(NOW, HOURLY, stored)
    assert check.past_due
    assert check.status == stored
    assert not check.store


def test_stored_next_in_the_future_is_not_past_due():
    last = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    stored = ScheduleStatus(last=last, next=last + timedelta(hours=1), last_updated=last)
    assert not check_past_due(NOW, HOURLY, stored).past_due


def test_a_changed_schedule_is_recalculated_instead_of_past_due():
    """The stored Next does not follow from Last under the current schedule: the schedule was edited."""
    last = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    stored = ScheduleStatus(last=last, next=last + timedelta(minutes=5), last_updated=last)
    check = check_past_due(NOW, HOURLY, stored)
    assert not check.past_due
    assert check.store
    assert check.status.next == datetime(2024, 5, 1, 13, 0, tzinfo=UTC)
    assert check.status.last == NEVER


def test_a_scheduled_run_that_fired_early_counts_as_its_scheduled_time():
    previous = ScheduleStatus(last=NEVER, next=datetime(2024, 5, 1, 13, 0, tzinfo=UTC))
    early = datetime(2024, 5, 1, 12, 59, 59, 990000, tzinfo=UTC)
    after = status_after_run(HOURLY, previous, early, scheduled=True)
    assert after.last == previous.next
    assert after.next == datetime(2024, 5, 1, 14, 0, tzinfo=UTC)
    unscheduled = status_after_run(HOURLY, previous, early, scheduled=False)
    assert unscheduled.last == early


def test_status_json_uses_the_host_keys_and_reads_dotnet_timestamps():
    status = ScheduleStatus.model_validate_json(
        '{"Last":"2024-05-01T09:00:00.1234567+00:00","Next":"2024-05-01T10:00:00+00:00",'
        '"LastUpdated":"0001-01-01T00:00:00"}'
    )
    assert status.next == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert status.last_updated.year == 1
    assert set(status.model_dump(by_alias=True)) == {"Last", "Next", "LastUpdated"}

"""NCRONTAB parsing and occurrences, as the timer trigger reads schedules (pure, no I/O)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from local.host.ncrontab import parse_schedule, schedule_zone
from local.host.settings import SettingsError


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_six_fields_put_seconds_first():
    schedule = parse_schedule("*/15 * * * * *", {}, UTC)
    assert schedule.occurrences(at(2024, 5, 1, 12, 0, 1), 3) == [
        at(2024, 5, 1, 12, 0, 15),
        at(2024, 5, 1, 12, 0, 30),
        at(2024, 5, 1, 12, 0, 45),
    ]


def test_five_fields_have_no_seconds_and_fire_at_second_zero():
    schedule = parse_schedule("*/5 * * * *", {}, UTC)
    assert schedule.expression == "0 */5 * * * *"
    assert schedule.next_after(at(2024, 5, 1, 12, 2, 30)) == at(2024, 5, 1, 12, 5, 0)


def test_next_occurrence_is_strictly_after_the_given_time():
    schedule = parse_schedule("0 0 * * * *", {}, UTC)
    assert schedule.next_after(at(2024, 5, 1, 12, 0, 0)) == at(2024, 5, 1, 13, 0, 0)


def test_setting_references_are_resolved_from_app_settings():
    schedule = parse_schedule("%POLL_SCHEDULE%", {"POLL_SCHEDULE": "0 */2 * * * *"}, UTC)
    assert schedule.next_after(at(2024, 5, 1, 12, 0, 30)) == at(2024, 5, 1, 12, 2, 0)


def test_missing_setting_names_the_setting():
    with pytest.raises(SettingsError, match="POLL_SCHEDULE"):
        parse_schedule("%POLL_SCHEDULE%", {}, UTC)


def test_day_of_month_and_day_of_week_must_both_match():
    """`0 0 0 13 * 5` is Friday the 13th only; classic cron (OR) would also fire on every Friday."""
    schedule = parse_schedule("0 0 0 13 * 5", {}, UTC)
    fired = schedule.occurrences(at(2024, 1, 1), 3)
    assert fired == [at(2024, 9, 13), at(2024, 12, 13), at(2025, 6, 13)]
    assert all(moment.day == 13 and moment.weekday() == 4 for moment in fired)


@pytest.mark.parametrize("text", ["* * * *", "0 0 0 0 * * * *", "61 * * * * *", "not a schedule at all"])
def test_invalid_schedules_are_rejected(text):
    with pytest.raises(SettingsError):
        parse_schedule(text, {}, UTC)


def test_website_time_zone_moves_the_wall_clock():
    zone = schedule_zone({"WEBSITE_TIME_ZONE": "Europe/Berlin"})
    schedule = parse_schedule("0 0 9 * * *", {}, zone)
    # 09:00 in Berlin on a summer day is 07:00 UTC.
    assert schedule.next_after(at(2024, 7, 1, 0, 0)) == datetime(
        2024, 7, 1, 9, 0, tzinfo=ZoneInfo("Europe/Berlin")
    )
    assert schedule.next_after(at(2024, 7, 1, 0, 0)).astimezone(UTC) == at(2024, 7, 1, 7, 0)


def test_utc_without_website_time_zone_and_unknown_zones_fail():
    assert schedule_zone({}).utcoffset(datetime(2024, 1, 1)).total_seconds() == 0
    with pytest.raises(SettingsError, match="WEBSITE_TIME_ZONE"):
        schedule_zone({"WEBSITE_TIME_ZONE": "W. Europe Standard Time"})


def test_sub_minute_schedules_are_recognised_for_the_use_monitor_default():
    now = at(2024, 5, 1)
    assert parse_schedule("*/30 * * * * *", {}, UTC).fires_at_least_every_minute(now)
    assert not parse_schedule("0 * * * * *", {}, UTC).fires_at_least_every_minute(now)

"""NCRONTAB schedules as the Functions timer trigger reads them, computed with croniter.

NCRONTAB puts seconds first and, unlike classic cron, requires day-of-month AND day-of-week to match when both
are restricted (`0 0 0 13 * 5` is Friday the 13th only). croniter gets there with `second_at_beginning=True`
and `day_or=False`. Five-field expressions have no seconds field and fire at second 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from local.host.settings import SettingsError, resolve_references

_UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class CronSchedule:
    """A six-field NCRONTAB expression evaluated in one time zone."""

    expression: str
    zone: tzinfo

    def next_after(self, when: datetime) -> datetime:
        """The first occurrence strictly after `when` (an aware datetime), in the schedule's zone."""
        iterator = croniter(
            self.expression, when.astimezone(self.zone), second_at_beginning=True, day_or=False
        )
        found = iterator.get_next(datetime)
        assert isinstance(found, datetime)
        return found

    def occurrences(self, after: datetime, count: int) -> list[datetime]:
        found: list[datetime] = []
        current = after
        for _ in range(count):
            current = self.next_after(current)
            found.append(current)
        return found

    def fires_at_least_every_minute(self, now: datetime) -> bool:
        """True when consecutive occurrences are under a minute apart.

        The host turns schedule monitoring on by default only for schedules of one minute or longer.
        """
        first, second, third = self.occurrences(now, 3)
        return min(second - first, third - second) < timedelta(minutes=1)

    def __str__(self) -> str:
        return self.expression


def schedule_zone(settings: Mapping[str, str]) -> tzinfo:
    """UTC unless WEBSITE_TIME_ZONE names an IANA zone (as on Linux plans)."""
    name = settings.get("WEBSITE_TIME_ZONE", "").strip()
    if not name:
        return _UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise SettingsError(f"WEBSITE_TIME_ZONE={name!r} is not an IANA time zone name") from error


def parse_schedule(text: str, settings: Mapping[str, str], zone: tzinfo) -> CronSchedule:
    """Resolve `%Setting%` references and validate a five- or six-field NCRONTAB expression."""
    resolved = resolve_references(text, settings).strip()
    fields = resolved.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6:
        raise SettingsError(
            f"schedule {resolved!r} is not NCRONTAB: expected six fields "
            "'{second} {minute} {hour} {day} {month} {day-of-week}' (or five without seconds)"
        )
    expression = " ".join(fields)
    if not croniter.is_valid(expression, second_at_beginning=True):
        raise SettingsError(f"schedule {resolved!r} is not a valid NCRONTAB expression")
    return CronSchedule(expression=expression, zone=zone)

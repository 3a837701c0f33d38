"""Time formats the Speech API speaks: ISO-8601 durations, 100-ns ticks and second-precision UTC timestamps.

The service renders entity timestamps with whole seconds and durations the way .NET's XmlConvert does
("PT2.58S", "P2D"), so the emulator does the same to keep clients honest about parsing them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

TICKS_PER_SECOND = 10_000_000
TICKS_PER_MILLISECOND = 10_000
_SECONDS_PER_DAY = 86_400

_ISO_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def ticks_to_iso(ticks: int) -> str:
    """Render a non-negative tick count as an ISO-8601 duration, e.g. 25800000 -> "PT2.58S"."""
    days, rest = divmod(ticks, _SECONDS_PER_DAY * TICKS_PER_SECOND)
    hours, rest = divmod(rest, 3600 * TICKS_PER_SECOND)
    minutes, rest = divmod(rest, 60 * TICKS_PER_SECOND)
    whole, fraction = divmod(rest, TICKS_PER_SECOND)
    seconds = f"{whole}.{fraction:07d}".rstrip("0").rstrip(".") if fraction else str(whole) if whole else ""
    time_part = "".join(f"{value}{unit}" for value, unit in ((hours, "H"), (minutes, "M")) if value) + (
        f"{seconds}S" if seconds else ""
    )
    if not days and not time_part:
        return "PT0S"
    return "P" + (f"{days}D" if days else "") + (f"T{time_part}" if time_part else "")


def seconds_to_iso(seconds: float) -> str:
    return ticks_to_iso(round(seconds * TICKS_PER_SECOND))


def iso_to_seconds(text: str) -> float:
    """Parse the ISO-8601 durations v3.2 accepts for timeToLive ("P2D", "PT12H", "P1DT6H30M")."""
    match = _ISO_DURATION.match(text.strip())
    if match is None or text.strip() in {"P", "PT"} or text.strip().endswith("T"):
        raise ValueError(f"'{text}' is not an ISO-8601 duration")
    parts = {name: float(value) if value else 0.0 for name, value in match.groupdict().items()}
    return (
        parts["weeks"] * 7 * _SECONDS_PER_DAY
        + parts["days"] * _SECONDS_PER_DAY
        + parts["hours"] * 3600
        + parts["minutes"] * 60
        + parts["seconds"]
    )


def format_timestamp(moment: datetime) -> str:
    """Whole-second UTC timestamp as the service renders createdDateTime and friends."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def whole_seconds(moment: datetime) -> datetime:
    """The instant a client can see: what format_timestamp shows, as a datetime (filters compare these)."""
    return moment.astimezone(UTC).replace(microsecond=0)


def parse_timestamp(text: str) -> datetime:
    """ISO-8601 date-time; one without an offset is taken as UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

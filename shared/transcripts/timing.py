"""Time in transcripts: Speech ticks, ISO-8601 durations and milliseconds in, seconds and clock strings out.

The service writes every offset twice, as ticks (1 tick = 100 ns, often serialised as floats like 7600000.0)
and as an ISO-8601 duration, and from 2024-11-15 it may add milliseconds; ticks are exact, so they win, the
ISO form comes next and milliseconds last.
"""

from math import isfinite

from shared.speech.durations import parse_iso_duration

TICKS_PER_SECOND = 10_000_000
TICKS_PER_MILLISECOND = 10_000


def ticks(in_ticks: float | None, iso: str | None, milliseconds: float | None = None) -> int | None:
    """Whole ticks from the `*InTicks` field, else the ISO-8601 duration, else `*Milliseconds`; None if none
    is usable (JSON can spell an infinite number: 1e400)."""
    if in_ticks is not None and isfinite(in_ticks):
        return round(in_ticks)
    if iso is not None:
        try:
            seconds = parse_iso_duration(iso)
        except ValueError:
            seconds = None
        if seconds is not None and isfinite(seconds):
            return round(seconds * TICKS_PER_SECOND)
    if milliseconds is not None and isfinite(milliseconds):
        return round(milliseconds * TICKS_PER_MILLISECOND)
    return None


def ticks_to_seconds(value: float) -> float:
    """Seconds for a tick count; for callers that build phrases themselves (conversations)."""
    return round(value) / TICKS_PER_SECOND


# The two formatters below run for every phrase or cue; %-formatting is about three times faster here than
# f-strings with format specifications.


def clock(seconds: float) -> str:
    """`HH:MM:SS` (whole seconds, rounded down) for paragraph timestamps."""
    minutes, whole = divmod(max(0, int(seconds)), 60)
    return "%02d:%02d:%02d" % (minutes // 60, minutes % 60, whole)  # noqa: UP031


def time_range(start: int, end: int, separator: str) -> str:
    """`HH:MM:SS<separator>mmm --> HH:MM:SS<separator>mmm` from milliseconds (negative ones read as 0): SubRip
    separates milliseconds with a comma, WebVTT with a full stop. Once per cue, so both ends in one step."""
    start, end = max(0, start), max(0, end)
    return "%02d:%02d:%02d%s%03d --> %02d:%02d:%02d%s%03d" % (  # noqa: UP031
        start // 3_600_000,
        start // 60_000 % 60,
        start // 1000 % 60,
        separator,
        start % 1000,
        end // 3_600_000,
        end // 60_000 % 60,
        end // 1000 % 60,
        separator,
        end % 1000,
    )

"""Time in transcripts: Speech ticks and ISO-8601 durations in, seconds and clock strings out.

The service writes every offset twice, as ticks (1 tick = 100 ns, often serialised as floats like 7600000.0)
and as an ISO-8601 duration; ticks are exact, so they win and the ISO form is only a fallback.
"""

from math import isfinite

from shared.speech.durations import parse_iso_duration

TICKS_PER_SECOND = 10_000_000


def ticks(in_ticks: float | None, iso: str | None) -> int | None:
    """Whole ticks from the `*InTicks` field, else from the ISO-8601 duration; None if neither is usable."""
    if in_ticks is not None and isfinite(in_ticks):  # JSON can spell an infinite number (1e400)
        return round(in_ticks)
    if iso is None:
        return None
    try:
        return round(parse_iso_duration(iso) * TICKS_PER_SECOND)
    except ValueError:
        return None


def ticks_to_seconds(value: float) -> float:
    """Seconds for a tick count; for callers that build phrases themselves (conversations)."""
    return round(value) / TICKS_PER_SECOND


# The two formatters below run for every phrase and cue; %-formatting is about three times faster here than
# f-strings with format specifications.


def clock(seconds: float) -> str:
    """`HH:MM:SS` (whole seconds, rounded down) for paragraph timestamps."""
    minutes, whole = divmod(max(0, int(seconds)), 60)
    return "%02d:%02d:%02d" % (minutes // 60, minutes % 60, whole)  # noqa: UP031


def timecode(milliseconds: int, separator: str) -> str:
    """`HH:MM:SS<separator>mmm`: SubRip uses a comma, WebVTT a full stop."""
    seconds, millis = divmod(max(0, milliseconds), 1000)
    minutes, seconds = divmod(seconds, 60)
    return "%02d:%02d:%02d%s%03d" % (minutes // 60, minutes % 60, seconds, separator, millis)  # noqa: UP031

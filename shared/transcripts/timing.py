"""Time in transcripts: Speech ticks and ISO-8601 durations in, seconds and clock strings out.

The service writes every offset twice, as ticks (1 tick = 100 ns, often serialised as floats like 7600000.0)
and as an ISO-8601 duration; ticks are exact, so they win and the ISO form is only a fallback.
"""

from shared.speech.durations import parse_iso_duration

TICKS_PER_SECOND = 10_000_000


def ticks(in_ticks: float | None, iso: str | None) -> int | None:
    """Whole ticks from the `*InTicks` field, else from the ISO-8601 duration; None if neither is usable."""
    if in_ticks is not None:
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


def clock(seconds: float) -> str:
    """`HH:MM:SS` (whole seconds, rounded down) for paragraph timestamps."""
    whole = max(0, int(seconds))
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def timecode(milliseconds: int, separator: str) -> str:
    """`HH:MM:SS<separator>mmm`: SubRip uses a comma, WebVTT a full stop."""
    seconds, millis = divmod(max(0, milliseconds), 1000)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{separator}{millis:03d}"

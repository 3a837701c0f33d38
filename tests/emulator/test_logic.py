"""The emulator's pure pieces, without HTTP: time formats, lifecycle, throttle window, URL knobs, filters."""

from datetime import UTC, datetime, timedelta

import pytest

from local.speech_emulator.filters import TRANSCRIPTION_FIELDS, FilterError, parse_filter, tokenize
from local.speech_emulator.inputs import knobs_for
from local.speech_emulator.isotime import iso_to_seconds, ticks_to_iso
from local.speech_emulator.lifecycle import JobState, Schedule, Status, state_at
from local.speech_emulator.throttle import SlidingWindowThrottle

T0 = datetime(2025, 5, 24, 13, 36, 57, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ticks", "iso"),
    [(0, "PT0S"), (25_800_000, "PT2.58S"), (7_600_000, "PT0.76S"), (900_000_000, "PT1M30S"),
     (48 * 36_000_000_000, "P2D"), (12 * 36_000_000_000, "PT12H"), (90_061 * 10_000_000 + 5, "P1DT1H1M1.0000005S")],
)  # fmt: skip
def test_durations_render_like_the_service(ticks: int, iso: str):
    assert ticks_to_iso(ticks) == iso


def test_iso_durations_parse_and_reject_garbage():
    assert iso_to_seconds("P1DT6H30M") == 109_800
    assert iso_to_seconds("PT1.5S") == 1.5
    for text in ("", "P", "PT", "2 days", "P1DT"):
        with pytest.raises(ValueError, match="ISO-8601"):
            iso_to_seconds(text)


def test_lifecycle_changes_status_and_last_action_at_each_phase():
    schedule = Schedule(created=T0, phase=timedelta(seconds=10), outcome=Status.FAILED)
    seen = [state_at(schedule, T0 + timedelta(seconds=s)) for s in (0, 9.9, 10, 19.9, 20, 1000)]
    assert [state.status for state in seen] == [Status.NOT_STARTED] * 2 + [Status.RUNNING] * 2 + [
        Status.FAILED
    ] * 2
    assert [int((state.last_action - T0).total_seconds()) for state in seen] == [0, 0, 10, 10, 20, 20]


def test_stuck_pinned_and_forced_schedules():
    base = Schedule(created=T0, phase=timedelta(seconds=1), outcome=Status.SUCCEEDED)
    later = T0 + timedelta(days=1)
    assert state_at(Schedule(**{**base.__dict__, "stuck": True}), later).status is Status.RUNNING
    pinned = JobState(Status.NOT_STARTED, T0 - timedelta(days=3))
    assert state_at(Schedule(**{**base.__dict__, "pinned": pinned}), later) == pinned
    forced = JobState(Status.FAILED, T0 + timedelta(seconds=1))
    assert state_at(Schedule(**{**base.__dict__, "pinned": pinned, "forced": forced}), later) == forced


def test_throttle_is_a_sliding_window_per_key():
    now = [0.0]
    throttle = SlidingWindowThrottle(limit=2, window_seconds=10, clock=lambda: now[0])
    assert throttle.admit("a") is None
    now[0] = 4.0
    assert throttle.admit("a") is None
    assert throttle.admit("b") is None
    now[0] = 6.5
    assert throttle.admit("a") == 4  # the slot taken at t=0 frees at t=10
    now[0] = 10.0
    assert throttle.admit("a") is None
    assert throttle.admit("a") == 4
    now[0] = 13.9
    assert throttle.admit("a") == 1  # never less than a second


def test_url_knobs_ignore_sas_parameters():
    plain = knobs_for("https://host/c/My-Stereo_FAIL.wav?phrases=7")
    with_sas = knobs_for("https://other/x/My-Stereo_FAIL.wav?sig=abc&se=2030-01-01&phrases=7&sp=r")
    assert plain == with_sas
    assert (plain.fails, plain.stereo, plain.phrases, plain.bytes) == (True, True, 7, None)
    assert knobs_for("https://host/a.wav?bytes=5000&phrases=x").phrases == 3


def test_tokenizer_unescapes_quotes_and_reads_unquoted_datetimes():
    tokens = tokenize("displayName eq 'it''s' and createdDateTime ge 2024-01-01T00:00:00Z")
    assert [(t.kind, t.text) for t in tokens] == [
        ("word", "displayName"), ("keyword", "eq"), ("string", "it's"), ("keyword", "and"),
        ("word", "createdDateTime"), ("keyword", "ge"), ("datetime", "2024-01-01T00:00:00Z"), ("end", ""),
    ]  # fmt: skip


def test_precedence_is_not_then_and_then_or():
    predicate = parse_filter("status eq 'A' or status eq 'B' and not locale eq 'x'", TRANSCRIPTION_FIELDS)
    record = {"status": "A", "locale": "x"}
    assert predicate.matches(record)  # A or (B and not x)
    assert not predicate.matches({"status": "B", "locale": "x"})
    grouped = parse_filter("(status eq 'A' or status eq 'B') and not locale eq 'x'", TRANSCRIPTION_FIELDS)
    assert not grouped.matches(record)


def test_datetime_comparisons_accept_quoted_values_and_offsets():
    record = {"createdDateTime": datetime(2024, 1, 1, 12, tzinfo=UTC)}
    assert parse_filter("createdDateTime eq '2024-01-01T13:00:00+01:00'", TRANSCRIPTION_FIELDS).matches(
        record
    )
    assert parse_filter("createdDateTime lt 2024-01-01T12:00:01", TRANSCRIPTION_FIELDS).matches(record)
    with pytest.raises(FilterError, match="not a valid date-time"):
        parse_filter("createdDateTime lt '2024-13-01T00:00:00Z'", TRANSCRIPTION_FIELDS)
    with pytest.raises(FilterError, match="empty"):
        parse_filter("  ", TRANSCRIPTION_FIELDS)

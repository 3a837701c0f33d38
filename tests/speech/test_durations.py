import pytest

from shared.speech.durations import hours_to_iso_duration, parse_iso_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT42S", 42.0),
        ("PT3S", 3.0),
        ("PT2.58S", 2.58),
        ("PT1H2M3.5S", 3723.5),
        ("P2D", 172_800.0),
        ("P1DT1S", 86_401.0),
        ("P1W", 604_800.0),
        ("PT48H", 172_800.0),
        ("PT0S", 0.0),
        ("PT0,5S", 0.5),
        ("pt1m", 60.0),
        ("-PT1S", -1.0),
        (" PT10M ", 600.0),
    ],
)
def test_parse_iso_duration(text, seconds):
    assert parse_iso_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "P", "PT", "P1DT", "42", "PT1.S", "P1Y", "P1M", "PT1H1D", "1H", "PTS"])
def test_parse_iso_duration_rejects(text):
    with pytest.raises(ValueError, match="ISO-8601"):
        parse_iso_duration(text)


def test_hours_to_iso_duration_round_trips():
    assert hours_to_iso_duration(48) == "PT48H"
    assert parse_iso_duration(hours_to_iso_duration(744)) == 744 * 3600

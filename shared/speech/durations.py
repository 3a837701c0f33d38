"""ISO-8601 durations as the Speech API writes them ("PT42S", "PT1H2M3.5S", "P2D").

v3.2 reports durations and time-to-live in this form; 2024-11-15 and later use plain numbers. Years and
months are rejected: their length depends on a calendar date the API never supplies, and it never sends them.
"""

import re

_DURATION = re.compile(
    r"^(?P<sign>[-+])?P(?:(?P<weeks>\d+(?:[.,]\d+)?)W)?(?:(?P<days>\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:[.,]\d+)?)H)?(?:(?P<minutes>\d+(?:[.,]\d+)?)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$"
)
_UNIT_SECONDS = {"weeks": 604_800.0, "days": 86_400.0, "hours": 3_600.0, "minutes": 60.0, "seconds": 1.0}


def parse_iso_duration(text: str) -> float:
    """Seconds in an ISO-8601 duration; ValueError for anything else (including calendar years/months)."""
    normalized = text.strip().upper()
    match = _DURATION.match(normalized)
    groups = match.groupdict() if match else {}
    present = {unit: float(groups[unit].replace(",", ".")) for unit in _UNIT_SECONDS if groups.get(unit)}
    if not match or not present or normalized.endswith("T"):
        raise ValueError(f"not an ISO-8601 duration in days/hours/minutes/seconds: {text!r}")
    total = sum(_UNIT_SECONDS[unit] * value for unit, value in present.items())
    return -total if groups["sign"] == "-" else total


def hours_to_iso_duration(hours: int) -> str:
    """v3.2's `timeToLive` for a whole number of hours, e.g. 48 -> "PT48H"."""
    return f"PT{hours}H"

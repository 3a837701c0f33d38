"""The transcript options a setting names (OUTPUT_FORMATS, CHANNEL_LABELS): parsed and checked without
importing the parsers and renderers, so validating the settings at start-up stays cheap."""

from collections.abc import Collection

FORMATS = ("json", "txt", "srt", "vtt")
CONTENT_TYPES = {
    "json": "application/json",
    "txt": "text/plain; charset=utf-8",
    "srt": "application/x-subrip",
    "vtt": "text/vtt; charset=utf-8",
}


def parse_formats(value: str) -> frozenset[str]:
    """`json,txt,srt,vtt` or any subset (case and spaces ignored); an unknown name is a ValueError."""
    chosen = {part.strip().lower() for part in value.split(",") if part.strip()}
    check_formats(chosen)
    return frozenset(chosen)


def parse_channel_labels(value: str) -> dict[int, str]:
    """`Agent,Customer` -> {0: "Agent", 1: "Customer"}; an empty value means no labels."""
    labels = [part.strip() for part in value.split(",")] if value.strip() else []
    if any(not label for label in labels):
        raise ValueError("channel labels are comma-separated and none may be empty, e.g. Agent,Customer")
    return dict(enumerate(labels))


def check_formats(formats: Collection[str]) -> None:
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ValueError(
            f"unknown transcript format(s) {', '.join(unknown)}; choose from {','.join(FORMATS)}"
        )

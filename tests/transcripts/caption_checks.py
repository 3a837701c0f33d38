"""Captions read back with the `srt` and `webvtt-py` libraries, and the conventions checked on every cue."""

import html
import io
import re
from dataclasses import dataclass

import srt
import webvtt

from shared.transcripts.captions import MAX_CUE_MS, MAX_LINE_CHARS, MIN_VISIBLE_MS

_VOICE = re.compile(r"^<v ([^>]*)>")


@dataclass
class ReadCue:
    start: int  # ms
    end: int
    lines: list[str]  # as displayed (SubRip: with the label prefix; WebVTT: without the voice tag, unescaped)
    voice: str | None = None

    @property
    def text(self) -> str:
        return " ".join(self.lines)


def _ms(timestamp: str) -> int:
    hours, minutes, rest = timestamp.split(":")
    seconds, millis = rest.split(".")
    return ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis)


def read_srt(data: bytes) -> list[ReadCue]:
    subtitles = list(srt.parse(data.decode(), ignore_errors=False))
    assert [s.index for s in subtitles] == list(range(1, len(subtitles) + 1))
    cues = [ReadCue(s.start // _MS, s.end // _MS, s.content.split("\n")) for s in subtitles]
    check(cues)
    return cues


_MS = srt.timedelta(milliseconds=1)


def read_vtt(data: bytes) -> list[ReadCue]:
    text = data.decode()
    assert text.startswith("WEBVTT\n\n")
    captions = webvtt.from_buffer(io.StringIO(text)).captions
    cues = []
    for caption in captions:
        lines = caption.raw_text.split("\n")
        match = _VOICE.match(lines[0])
        voice = html.unescape(match.group(1)) if match else None
        if match:
            lines[0] = lines[0][match.end() :]
        assert not set("<>") & set("".join(lines)), "unescaped markup in cue text"
        cues.append(
            ReadCue(_ms(caption.start), _ms(caption.end), [html.unescape(line) for line in lines], voice)
        )
    check(cues)
    return cues


def check(cues: list[ReadCue]) -> None:
    """One track: ordered, never overlapping, 0.5-7 s (the last may be cut shorter by the end of the audio),
    at most two lines of at most 42 characters."""
    previous_end = 0
    for index, cue in enumerate(cues):
        assert cue.start >= previous_end, (
            f"cue at {cue.start} overlaps the previous one (ends {previous_end})"
        )
        shortest = MIN_VISIBLE_MS if index < len(cues) - 1 else 1
        assert shortest <= cue.end - cue.start <= MAX_CUE_MS, (cue.start, cue.end)
        assert 1 <= len(cue.lines) <= 2, cue.lines
        assert all(0 < len(line) <= MAX_LINE_CHARS for line in cue.lines), cue.lines
        previous_end = cue.end

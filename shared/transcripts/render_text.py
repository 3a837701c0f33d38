"""Plain text for reading: paragraphs with a timestamp and, when several voices speak, who speaks.

Consecutive phrases of the same voice merge into one paragraph, which ends when the voice changes or once it
holds PARAGRAPH_CHARS characters (a monologue would otherwise be one endless line). Streamed phrase by phrase.
"""

from collections.abc import Iterable, Iterator

from shared.transcripts.labels import Labels
from shared.transcripts.model import Phrase, TranscriptHeader
from shared.transcripts.renderer import stream
from shared.transcripts.spoken import Spoken
from shared.transcripts.timing import clock

PARAGRAPH_CHARS = 1000
EMPTY_NOTE = "(no speech recognized)\n"


class TextRenderer:
    """`[00:01:02] Agent: text...` paragraphs separated by blank lines (no label for a single voice)."""

    def __init__(self, labels: Labels) -> None:
        self._labels = labels
        self._started = False
        self._voice: str | None = None
        self._length = 0

    def add(self, phrase: Spoken) -> bytes:
        text = " ".join(phrase.text.split())
        if not text:
            return b""
        label = self._labels.of(phrase)
        if self._started and label == self._voice and self._length < PARAGRAPH_CHARS:
            self._length += len(text) + 1
            return f" {text}".encode()
        prefix = f"[{clock(phrase.start)}] " + (f"{label}: " if label else "")
        separator = "\n\n" if self._started else ""
        self._started, self._voice, self._length = True, label, len(text)
        return f"{separator}{prefix}{text}".encode()

    def close(self) -> bytes:
        return b"\n" if self._started else EMPTY_NOTE.encode()


def render_txt(
    header: TranscriptHeader, phrases: Iterable[Phrase], labels: Labels | None = None
) -> Iterator[bytes]:
    """Without `labels`, they follow the header's channels and speakers."""
    return stream(TextRenderer(labels or Labels.for_transcript(header)), phrases)

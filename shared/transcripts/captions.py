"""SubRip (.srt) and WebVTT (.vtt) captions from time-ordered phrases.

Conventions followed:
- a cue holds at most MAX_LINES lines of at most MAX_LINE_CHARS characters, split where the two lines come
  out most even; a word longer than a line is cut into line-sized pieces (scripts written without spaces);
- a cue lasts at most MAX_CUE_MS; long phrases are cut at word boundaries, timed by their word timings when
  the result has them (display words, or lexical words that pair up one to one with the displayed words),
  else in proportion to their characters;
- a cue stays on screen at least MIN_CUE_MS when the next one leaves room, and never less than MIN_VISIBLE_MS,
  but never past the end of the audio (only a phrase that itself runs past it, which the service does not
  write, keeps its own end);
- one track: cues never overlap and start in order. When voices overlap (two channels talking at once), the
  earlier cue ends where the next begins, and a cue that would start before the previous one has been
  visible for MIN_VISIBLE_MS waits for it;
- speakers: WebVTT voice spans (`<v Agent>`), SubRip a `Agent:` prefix; WebVTT text escapes &, < and >.
"""

import heapq
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from shared.transcripts.labels import Labels
from shared.transcripts.model import Phrase
from shared.transcripts.renderer import stream
from shared.transcripts.spoken import Spoken, TimedWord
from shared.transcripts.timing import time_range

MAX_LINE_CHARS = 42
MAX_LINES = 2
MAX_CUE_MS = 7000
MIN_CUE_MS = 1000
MIN_VISIBLE_MS = 500
MAX_PREFIX_LABEL = 20
_NO_LIMIT = 1 << 62  # milliseconds: the audio's end when a transcript does not say

# A token: (text, start ms, end ms, glued to the previous token without a space).
_Token = tuple[str, int, int, bool]


@dataclass(slots=True)
class Cue:
    start: int  # milliseconds
    end: int
    lines: list[str]
    label: str | None


class CaptionRenderer(ABC):
    """The cue pipeline, one phrase at a time: each phrase's cues wait in a small heap until no later phrase
    can start before them (a long phrase's later cues may start after the next phrase begins), then pass
    through the sequencer, which holds one cue back to trim it when the next one overlaps."""

    def __init__(self, labels: Labels, *, prefix_labels: bool, audio_end: float | None = None) -> None:
        self._labels = labels
        self._prefix_labels = prefix_labels
        self._limit = _NO_LIMIT if audio_end is None else _ms(audio_end)
        self._pending: list[tuple[int, int, Cue]] = []
        self._arrival = 0
        self._previous: Cue | None = None

    def add(self, phrase: Spoken) -> bytes:
        now = _ms(phrase.start)
        pending = self._pending
        ready = []
        while pending and pending[0][0] <= now:
            ready.append(self._sequence(heapq.heappop(pending)[2]))
        for cue in _phrase_cues(phrase, self._labels.of(phrase), self._prefix_labels, self._limit):
            heapq.heappush(pending, (cue.start, self._arrival, cue))
            self._arrival += 1
        return "".join(ready).encode()

    def close(self) -> bytes:
        ready = [self._sequence(heapq.heappop(self._pending)[2]) for _ in range(len(self._pending))]
        if self._previous is not None:
            ready.append(self._format(self._previous))
            self._previous = None
        return "".join(ready).encode()

    def _sequence(self, cue: Cue) -> str:
        """Hold `cue` back; release the one before it, made to end by the time `cue` starts."""
        previous, self._previous = self._previous, cue
        if previous is None:
            return ""
        if cue.start < previous.end:
            previous.end = max(cue.start, min(previous.start + MIN_VISIBLE_MS, previous.end))
            cue.start = max(cue.start, previous.end)
            cue.end = max(cue.end, cue.start, min(cue.start + MIN_VISIBLE_MS, self._limit))
        return self._format(previous)

    @abstractmethod
    def _format(self, cue: Cue) -> str:
        """The cue in the file's syntax."""


class SrtRenderer(CaptionRenderer):
    def __init__(self, labels: Labels, audio_end: float | None = None) -> None:
        super().__init__(labels, prefix_labels=True, audio_end=audio_end)
        self._number = 0

    def _format(self, cue: Cue) -> str:
        self._number += 1
        text = "\n".join(cue.lines)
        return f"{self._number}\n{time_range(cue.start, cue.end, ',')}\n{text}\n\n"


class VttRenderer(CaptionRenderer):
    def __init__(self, labels: Labels, audio_end: float | None = None) -> None:
        super().__init__(labels, prefix_labels=False, audio_end=audio_end)
        self._header = b"WEBVTT\n\n"

    def add(self, phrase: Spoken) -> bytes:
        header, self._header = self._header, b""
        return header + super().add(phrase)

    def close(self) -> bytes:
        header, self._header = self._header, b""
        return header + super().close()

    def _format(self, cue: Cue) -> str:
        voice = f"<v {_escape(cue.label)}>" if cue.label else ""
        text = _escape("\n".join(cue.lines))
        return f"{time_range(cue.start, cue.end, '.')}\n{voice}{text}\n\n"


def render_srt(phrases: Iterable[Phrase], labels: Labels, audio_end: float | None = None) -> Iterator[bytes]:
    return stream(SrtRenderer(labels, audio_end), phrases)


def render_vtt(phrases: Iterable[Phrase], labels: Labels, audio_end: float | None = None) -> Iterator[bytes]:
    return stream(VttRenderer(labels, audio_end), phrases)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _phrase_cues(phrase: Spoken, label: str | None, prefix_labels: bool, limit: int) -> list[Cue]:
    """A phrase's cues in order: one when it fits, else cut at words into even cues."""
    prefix = ""
    if prefix_labels and label:
        prefix = (label if len(label) <= MAX_PREFIX_LABEL else label[: MAX_PREFIX_LABEL - 1] + "…") + ":"
    whole = _whole(phrase, prefix, label, limit)
    if whole is not None:
        return [whole]
    tokens = _tokens(phrase)
    if not tokens:
        return []
    head: list[_Token] = [(prefix, 0, 0, False)] if prefix else []
    groups = _groups(tokens, head, MAX_LINES * MAX_LINE_CHARS, MAX_CUE_MS)
    count = len(groups)
    if count > 1:
        # Greedy filling leaves a stub ("you.") as the last cue: fill to an even share instead, if that
        # needs no more cues.
        chars = sum(len(token[0]) + 1 for token in tokens)
        span = tokens[-1][2] - tokens[0][1]
        even = _groups(tokens, head, -(-chars // count) + 8, min(MAX_CUE_MS, -(-span // count) + 1000))
        if len(even) <= count:
            groups = even
    return [_cue(head + tokens[first:stop], len(head), label, limit) for first, stop in groups]


def _whole(phrase: Spoken, prefix: str, label: str | None, limit: int) -> Cue | None:
    """The common case in one step: a phrase short enough for a single cue, split into lines as a string."""
    start = round(phrase.start * 1000)  # _ms, inlined: this runs for every phrase, twice
    end = round(phrase.end * 1000)
    text = phrase.text
    if end - start > MAX_CUE_MS or len(prefix) + len(text) > MAX_LINES * MAX_LINE_CHARS:
        return None
    text = " ".join(text.split())
    if not text:
        return None
    line = f"{prefix} {text}" if prefix else text
    if len(line) <= MAX_LINE_CHARS:
        lines = [line]
    else:
        # The most even split is at the space nearest the middle, on one side or the other; never inside
        # the prefix.
        middle = len(line) // 2
        spaces = [at for at in (line.rfind(" ", 0, middle + 1), line.find(" ", middle)) if at >= len(prefix)]
        if not spaces:
            return None
        size = len(line)
        at = spaces[0]
        widest = max(at, size - at - 1)
        if len(spaces) > 1 and max(spaces[1], size - spaces[1] - 1) < widest:
            at = spaces[1]
            widest = max(at, size - at - 1)
        if widest > MAX_LINE_CHARS:
            return None
        lines = [line[:at], line[at + 1 :]]
    return Cue(start=start, end=_shown_until(start, end, limit), lines=lines, label=label)


def _groups(tokens: list[_Token], head: list[_Token], max_chars: int, max_ms: int) -> list[tuple[int, int]]:
    """Consecutive token ranges, one per cue, filled greedily within the limits.

    Two lines hold the tokens if they do when line one takes as many as it can, so the check is constant
    time per token: `line1` is that greedy first line, `line2` the rest (-1 while line one still fills).
    The most even split is chosen later, once per cue."""
    start_line = len(head[0][0]) if head else 0
    groups: list[tuple[int, int]] = []
    first = 0
    chars = len(tokens[0][0])
    line1, line2 = _place(start_line, -1, chars + (1 if head else 0), chars)
    for index in range(1, len(tokens)):
        text, _, end, glued = tokens[index]
        size = len(text)
        step = size if glued else size + 1
        new1, new2 = _place(line1, line2, step, size)
        if new2 > MAX_LINE_CHARS or chars + step > max_chars or end - tokens[first][1] > max_ms:
            groups.append((first, index))
            first, chars = index, size
            line1, line2 = _place(start_line, -1, size + (1 if head else 0), size)
        else:
            line1, line2, chars = new1, new2, chars + step
    groups.append((first, len(tokens)))
    return groups


def _place(line1: int, line2: int, step: int, size: int) -> tuple[int, int]:
    """Line widths after adding a token (`step`: its size with the space before it, if any)."""
    if line2 < 0:
        if line1 + step <= MAX_LINE_CHARS or line1 == 0:
            return line1 + step, -1
        return line1, size
    return line1, line2 + step


def _cue(tokens: list[_Token], skip: int, label: str | None, limit: int) -> Cue:
    start = tokens[skip][1]
    end = _shown_until(start, tokens[-1][2], limit)
    split = _line_break(tokens)
    if split is None:  # not reached: a lone token fits a line (tokens are cut, prefixes shortened)
        split = len(tokens)
    lines = [_join(tokens[:split]), _join(tokens[split:])]
    return Cue(start=start, end=end, lines=[line for line in lines if line], label=label)


def _join(tokens: list[_Token]) -> str:
    parts: list[str] = []
    for text, _, _, glued in tokens:
        if parts and not glued:
            parts.append(" ")
        parts.append(text)
    return "".join(parts)


def _line_break(tokens: list[_Token]) -> int | None:
    """Where line two starts (len(tokens): everything fits on one line), choosing the most even split;
    None when the tokens do not fit in two lines."""
    sizes = [
        len(text) + (0 if index == 0 or glued else 1) for index, (text, _, _, glued) in enumerate(tokens)
    ]
    total = sum(sizes)
    if total <= MAX_LINE_CHARS:
        return len(tokens)
    if total > MAX_LINES * MAX_LINE_CHARS + 1:
        return None
    best: int | None = None
    widest = 0
    first = 0
    for split in range(1, len(tokens)):
        first += sizes[split - 1]
        second = total - first - (sizes[split] - len(tokens[split][0]))
        width = max(first, second)
        if width <= MAX_LINE_CHARS and (best is None or width < widest):
            best, widest = split, width
    return best


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _shown_until(start: int, end: int, limit: int) -> int:
    """A cue's end: at least MIN_CUE_MS after its start (the sequencer trims it if the next cue needs the
    room), at most MAX_CUE_MS, and not past the end of the audio (`limit`) unless the words are."""
    shown = min(max(end, start + MIN_CUE_MS), start + MAX_CUE_MS)
    return shown if shown <= limit else max(limit, min(end, shown))


def _tokens(phrase: Spoken) -> list[_Token]:
    """The displayed words with times: from word timings when they match the displayed text, else spread
    over the phrase in proportion to their length."""
    text = phrase.text
    start = _ms(phrase.start)
    end = max(start, _ms(phrase.end))
    words = phrase.words
    tokens: list[_Token] | None = None
    if words:
        tokens = _aligned(text, words)
        if tokens is None:
            pieces = text.split()
            if len(pieces) == len(words):
                tokens = [
                    (piece, _ms(word["start"]), _ms(word["end"]), False)
                    for piece, word in zip(pieces, words, strict=True)
                ]
    if tokens is None:
        tokens = _proportional(text.split(), start, end)
    if any(len(token[0]) > MAX_LINE_CHARS for token in tokens):
        tokens = [piece for token in tokens for piece in _cut(token)]
    return tokens


def _aligned(text: str, words: Sequence[TimedWord]) -> list[_Token] | None:
    """Tokens taken from word timings whose texts spell out `text` (display words do, including scripts
    without spaces between words); None when they do not."""
    tokens: list[_Token] = []
    position = 0
    for timed in words:
        word = timed["text"]
        at = position
        while at < len(text) and text[at].isspace():
            at += 1
        if not word or not text.startswith(word, at):
            return None
        tokens.append((word, _ms(timed["start"]), _ms(timed["end"]), at == position and bool(tokens)))
        position = at + len(word)
    return tokens if not text[position:].strip() else None


def _proportional(pieces: list[str], start: int, end: int) -> list[_Token]:
    total = sum(len(piece) + 1 for piece in pieces)
    span = end - start
    tokens: list[_Token] = []
    done = 0
    for piece in pieces:
        begin = start + span * done // total
        done += len(piece) + 1
        tokens.append((piece, begin, start + span * done // total, False))
    return tokens


def _cut(token: _Token) -> list[_Token]:
    """A token longer than a line, cut into line-sized pieces sharing its time in proportion."""
    text, start, end, glued = token
    if len(text) <= MAX_LINE_CHARS:
        return [token]
    count = -(-len(text) // MAX_LINE_CHARS)
    span = end - start
    return [
        (
            text[index * MAX_LINE_CHARS : (index + 1) * MAX_LINE_CHARS],
            start + span * index // count,
            start + span * (index + 1) // count,
            glued if index == 0 else True,
        )
        for index in range(count)
    ]

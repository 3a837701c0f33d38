"""Incremental framing of a result file: the top-level object, header scalars and one phrase at a time.

Why not a per-event JSON parser (ijson): a result file is mostly `recognizedPhrases`, and building each
phrase from parser events costs Python work per token; even ijson's C backend building whole phrases
(`items_coro`) ran at about 30 MB/s here. Instead Python only walks the top-level object and the separators
of the phrase array, and each phrase is decoded whole by the C scanner of the standard `json` module
(`raw_decode`), at about 140 MB/s. Values the transcript does not need (`combinedRecognizedPhrases`,
unknown top-level keys) are skipped without being built, by a string- and bracket-aware scan that checks
nesting and termination but not the inner syntax of what it skips.

Faster still, when the caller takes batches (on_batch): runs of phrases are cut where one phrase ends and
the next begins (`}, {"recognitionStatus"`, as the service writes every phrase) and handed over as one JSON
array, for a C decoder to parse and check straight from the text (parse.py). A cut is only a guess (the
same characters may sit inside a string or a nested value), so the caller must reject a batch that is not
exactly a JSON array of objects (`[` + text + `]` then does not parse); a rejected batch, or anything the
caller cannot take whole, goes through the phrase-by-phrase path above, which also
names errors precisely.

Memory stays bounded: the buffer holds at most the unread part of the last chunk plus one incomplete value,
and a value that has not ended within MAX_VALUE_CHARS is an error, not a reason to keep reading.
"""

import json
import re
from collections.abc import Callable
from typing import Any

PHRASES_KEY = "recognizedPhrases"
HEADER_KEYS = frozenset({"source", "timestamp", "durationInTicks", "durationMilliseconds", "duration"})
MAX_VALUE_CHARS = 16 * 1024 * 1024
MAX_SKIP_DEPTH = 512

# These three match (maybe empty) at any position, so their .match() is never None.
_WS = re.compile(r"[ \t\n\r]*")
_PLAIN = re.compile(r'[^"\[\]{}]*')
_STRING_BODY = re.compile(r'[^"\\]*(?:\\[\s\S][^"\\]*)*')
_CLOSER = {"{": "}", "[": "]"}
_MORE = object()  # "the value may go on in the next chunk" (a decoded value can be None: JSON null)
# A decode error this close to the end of the buffer may only mean the value is not complete yet.
_TAIL = 8
# Where one phrase ends and the next begins, as the service writes them (a guess: see above).
_BOUNDARY = re.compile(r'\}[ \t\n\r]*,[ \t\n\r]*(?=\{[ \t\n\r]*"recognitionStatus")')
BATCH_PHRASES = 16

# States of the top-level walk.
_DOCUMENT, _FIRST_KEY, _KEY, _COLON, _VALUE, _AFTER_VALUE = range(6)
_FIRST_PHRASE, _PHRASE, _AFTER_PHRASE, _SKIP, _END = range(6, 11)


class FramingError(Exception):
    """The input cannot be a result file; `position` is a character index into the framer's buffer."""

    def __init__(self, message: str, position: int | None = None, *, syntax: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.syntax = syntax


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, for messages."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    return "null" if value is None else "a number"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class Framer:
    """Push framer over decoded text. Calls on_header(key, value) for header scalars, on_phrase(value) for
    each element of `recognizedPhrases` and on_problem(message) for shape problems it can step over; raises
    FramingError when it cannot go on. With on_batch, runs of phrases go to on_batch(text) first, as the
    text of a JSON array without its brackets; it returns False to have them framed one by one instead."""

    def __init__(
        self,
        on_header: Callable[[str, Any], None],
        on_phrase: Callable[[Any], None],
        on_problem: Callable[[str], None],
        on_batch: Callable[[str], bool] | None = None,
    ) -> None:
        self._on_header = on_header
        self._on_phrase = on_phrase
        self._on_problem = on_problem
        self._on_batch = on_batch
        self._one_by_one_until = 0  # buffer position up to which phrases are framed one by one
        self._decode = json.JSONDecoder(parse_constant=_reject_constant).raw_decode
        self._buf = ""
        self._pos = 0
        self._parts: list[str] = []  # text received while waiting for a value to complete
        self._parts_len = 0
        self._state = _DOCUMENT
        self._key = ""
        self._stack: list[str] = []
        self._in_string = False
        self._wait_for = 0  # characters needed before retrying a value that did not decode yet
        self.saw_phrases = False
        self._steps = {
            _DOCUMENT: self._document,
            _FIRST_KEY: self._first_key,
            _KEY: self._key_string,
            _COLON: self._colon,
            _VALUE: self._value,
            _AFTER_VALUE: self._after_value,
            _FIRST_PHRASE: self._phrases,
            _PHRASE: self._phrases,
            _AFTER_PHRASE: self._phrases,
            _SKIP: self._skip,
            _END: self._end,
        }

    def unread(self, position: int) -> str:
        """The text received after `position` in the buffer (to turn an error's position into bytes)."""
        return self._buf[position:] + "".join(self._parts)

    def feed(self, text: str, *, final: bool = False) -> None:
        """Consume `text`; with final=True the input ends here and nothing may remain open."""
        self._parts.append(text)
        self._parts_len += len(text)
        if len(self._buf) - self._pos + self._parts_len < self._wait_for and not final:
            return
        self._buf = self._buf[self._pos :] + "".join(self._parts)
        self._one_by_one_until = max(0, self._one_by_one_until - self._pos)
        self._pos = 0
        self._parts.clear()
        self._parts_len = 0
        self._run(final)
        if final and self._state != _END:
            where = (
                "empty document" if self._state == _DOCUMENT else "unexpected end of data (truncated file?)"
            )
            raise FramingError(where, len(self._buf))

    def _run(self, final: bool) -> None:
        # Each step returns True when it made progress and False when it needs more input.
        while self._steps[self._state](final):
            pass

    def _next_char(self) -> str:
        self._pos = _WS.match(self._buf, self._pos).end()  # type: ignore[union-attr]
        return self._buf[self._pos] if self._pos < len(self._buf) else ""

    def _document(self, final: bool) -> bool:
        char = self._next_char()
        if not char:
            return False
        if char == "{":
            self._pos += 1
            self._state = _FIRST_KEY
            return True
        kind = {"[": "a list", '"': "a string", "t": "a boolean", "f": "a boolean", "n": "null"}.get(char)
        if kind is None and (char.isdigit() or char == "-"):
            kind = "a number"
        if kind is None:
            raise FramingError(f"unexpected character {char!r}", self._pos)
        raise FramingError(f"not a transcription result: top-level is {kind}", syntax=False)

    def _first_key(self, final: bool) -> bool:
        char = self._next_char()
        if char == "}":
            self._pos += 1
            self._state = _END
            return True
        return self._key_string(final)

    def _key_string(self, final: bool) -> bool:
        char = self._next_char()
        if not char:
            return False
        if char != '"':
            raise FramingError("expected a property name", self._pos)
        key = self._decoded(final)
        if key is _MORE:
            return False
        self._key = key
        self._state = _COLON
        return True

    def _colon(self, final: bool) -> bool:
        char = self._next_char()
        if not char:
            return False
        if char != ":":
            raise FramingError("expected ':'", self._pos)
        self._pos += 1
        self._state = _VALUE
        return True

    def _value(self, final: bool) -> bool:
        char = self._next_char()
        if not char:
            return False
        key = self._key
        if key == PHRASES_KEY:
            self.saw_phrases = True
            if char == "[":
                self._pos += 1
                self._state = _FIRST_PHRASE
                return True
            self._on_problem(f"{PHRASES_KEY}: expected a list")
        if key in HEADER_KEYS or char not in '{["':  # header values, and numbers or literals: small
            value = self._decoded(final)
            if value is _MORE:
                return False
            if key in HEADER_KEYS:
                self._on_header(key, value)
            self._state = _AFTER_VALUE
            return True
        self._stack.clear()
        self._in_string = False
        self._state = _SKIP
        return True

    def _after_value(self, final: bool) -> bool:
        char = self._next_char()
        if not char:
            return False
        self._pos += 1
        if char == ",":
            self._state = _KEY
        elif char == "}":
            self._state = _END
        else:
            raise FramingError("expected ',' or '}' after a value", self._pos - 1)
        return True

    def _end(self, final: bool) -> bool:
        if self._next_char():
            raise FramingError("unexpected data after the top-level object", self._pos)
        return False

    def _phrases(self, final: bool) -> bool:
        """The hot loop: separators in Python, each phrase decoded by the C scanner."""
        buf, state, ws, decode, on_phrase = self._buf, self._state, _WS.match, self._decode, self._on_phrase
        pos, end = self._pos, len(self._buf)
        while True:
            pos = ws(buf, pos).end()  # type: ignore[union-attr]
            if pos == end:
                break
            char = buf[pos]
            if state == _AFTER_PHRASE:
                if char == ",":
                    pos += 1
                    state = _PHRASE
                    continue
                if char != "]":
                    self._pos = pos
                    raise FramingError(f"expected ',' or ']' in {PHRASES_KEY}", pos)
            if char == "]" and state != _PHRASE:
                self._pos, self._state = pos + 1, _AFTER_VALUE
                return True
            if self._on_batch is not None and pos >= self._one_by_one_until:
                after = self._batch(buf, pos, self._on_batch)
                if after is not None:
                    pos, state = after, _PHRASE
                    continue
            self._pos, self._state = pos, state
            try:
                value, after = decode(buf, pos)
            except (json.JSONDecodeError, ValueError, RecursionError) as error:
                self._defer_or_raise(error, final)
                return False
            if after == end and not final and type(value) in (int, float):
                self._wait_for = end - pos + 1  # a number may go on in the next chunk
                return False
            pos, state = after, _AFTER_PHRASE
            self._wait_for = 0
            on_phrase(value)
        self._pos, self._state = pos, state
        return False

    def _batch(self, buf: str, pos: int, on_batch: Callable[[str], bool]) -> int | None:
        """Offer the next run of up to BATCH_PHRASES phrases to on_batch; the position after the separator
        that ends the run when it was taken, else None (and that run is framed one by one)."""
        cut = None
        for count, cut in enumerate(_BOUNDARY.finditer(buf, pos), start=1):  # noqa: B007 - the last one
            if count == BATCH_PHRASES:
                break
        if cut is None:
            return None
        if on_batch(buf[pos : cut.start() + 1]):
            self._wait_for = 0
            return cut.end()
        self._one_by_one_until = cut.end()
        return None

    def _decoded(self, final: bool) -> Any:
        """Decode the value at the current position, or _MORE when it may continue in the input."""
        try:
            value, after = self._decode(self._buf, self._pos)
        except (json.JSONDecodeError, ValueError, RecursionError) as error:
            self._defer_or_raise(error, final)
            return _MORE
        if after == len(self._buf) and not final and type(value) in (int, float):
            self._wait_for = after - self._pos + 1
            return _MORE
        self._pos = after
        self._wait_for = 0
        return value

    def _defer_or_raise(self, error: Exception, final: bool) -> None:
        """A failed decode either needs more input (the value runs past the buffer) or is a real error.

        Retrying only once the available text has doubled keeps tiny chunks from making this quadratic."""
        available = len(self._buf) - self._pos
        if isinstance(error, json.JSONDecodeError):
            message, position = error.msg, error.pos
            incomplete = message.startswith("Unterminated string") or position >= len(self._buf) - _TAIL
        else:
            message, position, incomplete = str(error) or type(error).__name__, self._pos, False
        if isinstance(error, RecursionError):
            message = "nesting too deep"
        if final or not incomplete:
            raise FramingError(message, position) from None
        if available > MAX_VALUE_CHARS:
            raise FramingError(f"a value longer than {MAX_VALUE_CHARS} characters: {message}", position)
        self._wait_for = 2 * available

    def _skip(self, final: bool) -> bool:
        """Step over one string, object or list without building it: strings and brackets only."""
        buf, stack, pos, end = self._buf, self._stack, self._pos, len(self._buf)
        while True:
            if self._in_string:
                pos = _STRING_BODY.match(buf, pos).end()  # type: ignore[union-attr]
                if pos >= end or buf[pos] != '"':
                    break  # the string goes on in the next chunk (maybe after a split escape)
                pos += 1
                self._in_string = False
                if not stack:
                    return self._skipped(pos)
                continue
            pos = _PLAIN.match(buf, pos).end()  # type: ignore[union-attr]
            if pos == end:
                break
            char = buf[pos]
            if char == '"':
                self._in_string = True
            elif char in _CLOSER:
                if len(stack) >= MAX_SKIP_DEPTH:
                    raise FramingError("nesting too deep", pos)
                stack.append(_CLOSER[char])
            elif not stack or stack.pop() != char:
                raise FramingError(f"unexpected {char!r}", pos)
            pos += 1
            if not stack and not self._in_string:
                return self._skipped(pos)
        self._pos = pos
        if final:
            raise FramingError("unexpected end of data (truncated file?)", pos)
        return False

    def _skipped(self, pos: int) -> bool:
        self._pos = pos
        self._state = _AFTER_VALUE
        return True

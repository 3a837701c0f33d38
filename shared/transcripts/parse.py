"""Push parser over a Speech result file: bytes in as they download, normalised phrases out, one at a time.

Nothing accumulates: the framer hands over one decoded phrase, the wire model validates it, it is normalised
and passed on, and only counters and small sets (channels, speakers, locales) stay behind. Bad input never
raises: a broken phrase is recorded and skipped, broken JSON stops parsing, and either makes the file invalid
(the harvester still keeps the raw copy).
"""

import codecs
from collections.abc import Callable
from typing import Any

import msgspec
from pydantic import BaseModel, ValidationError

from shared.transcripts.framing import PHRASES_KEY, Framer, FramingError, json_type
from shared.transcripts.model import Phrase
from shared.transcripts.normalize import PhraseFields, UnusablePhrase, phrase_fields
from shared.transcripts.timing import TICKS_PER_SECOND, ticks
from shared.transcripts.wire import PHRASE, RecognizedPhrase, ResultFile

MAX_PROBLEMS = 20
_DECODE_PHRASES = msgspec.json.Decoder(list[RecognizedPhrase]).decode


class ParseOutcome(BaseModel):
    valid: bool
    problems: list[str]
    phrase_count: int
    source: str | None = None
    timestamp: str | None = None
    duration_seconds: float | None = None
    locales: list[str]
    channels: list[int]
    speakers: list[str]


def describe(error: ValidationError, limit: int = 3) -> str:
    """A short, specific account of what failed: `nBest missing`, `nBest[0].words[2].offsetInTicks: ...`."""
    parts = []
    for item in error.errors(include_url=False)[:limit]:
        path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in item["loc"])
        where = path.lstrip(".") or "value"
        parts.append(f"{where} missing" if item["type"] == "missing" else f"{where}: {item['msg']}")
    return "; ".join(parts)


def _speaker_order(speaker: str) -> tuple[bool, int, str]:
    return (not speaker.isdigit(), int(speaker) if speaker.isdigit() else 0, speaker)


def _ignore(message: str) -> None:
    """A problem so_far() leaves to close()."""


class ResultFileParser:
    """feed(chunk) as bytes arrive, then close() for the outcome; on_phrase gets each valid phrase.

    `fields_parser` gives the phrases as plain values (normalize.phrase_fields) instead of models: the
    harvest's hot path, which spools them without building a model."""

    def __init__(self, on_phrase: Callable[[Phrase], None]) -> None:
        self._init(lambda fields: on_phrase(Phrase.model_validate(fields)))

    @classmethod
    def fields_parser(cls, on_fields: Callable[[PhraseFields], None]) -> "ResultFileParser":
        parser = cls.__new__(cls)
        parser._init(on_fields)
        return parser

    def _init(self, on_fields: Callable[[PhraseFields], None]) -> None:
        self._on_fields = on_fields
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._header: dict[str, Any] = {}
        self._framer = Framer(self._header.__setitem__, self._phrase, self._problem, self._batch)
        self._problems: list[str] = []
        self._more_problems = 0
        self._stopped = False
        self._outcome: ParseOutcome | None = None
        self._bytes = 0
        self._index = 0
        self._count = 0
        self._locales: dict[str, None] = {}  # insertion-ordered set
        self._channels: set[int] = set()
        self._speakers: set[str] = set()

    def feed(self, chunk: bytes) -> None:
        """Never raises on bad input: records the problem and ignores the rest of the file."""
        if self._stopped:
            return
        undecoded = len(self._decoder.getstate()[0])
        self._bytes += len(chunk)
        try:
            self._framer.feed(self._decoder.decode(chunk))
        except UnicodeDecodeError as error:
            self._fail(f"invalid UTF-8 at byte {self._bytes - len(chunk) - undecoded + error.start}")
        except FramingError as error:
            self._fail(self._located(error))

    def close(self) -> ParseOutcome:
        if self._outcome is None:
            self._outcome = self._finish()
        return self._outcome

    def _finish(self) -> ParseOutcome:
        if not self._stopped:
            try:
                self._framer.feed(self._decoder.decode(b"", final=True), final=True)
            except UnicodeDecodeError:
                self._fail(f"invalid UTF-8 at byte {self._bytes - len(self._decoder.getstate()[0])}")
            except FramingError as error:
                self._fail(self._located(error))
            else:
                if not self._framer.saw_phrases:
                    self._problem(f"not a transcription result: {PHRASES_KEY} missing")
            self._stopped = True
        return self._summary(self._problem)

    def so_far(self) -> ParseOutcome:
        """What close() would tell of the header and the phrases read so far (leaving out problems the header
        would add): what rendering before the end of the file can go by."""
        return self._summary(_ignore)

    def _summary(self, problem: Callable[[str], None]) -> ParseOutcome:
        try:
            header = ResultFile.model_validate(self._header)
        except ValidationError as error:
            problem(describe(error, limit=MAX_PROBLEMS))
            # Keep what is usable (the source names the transcripts even when the file is invalid).
            wrong = {item["loc"][0] for item in error.errors()}
            header = ResultFile.model_validate({k: v for k, v in self._header.items() if k not in wrong})
        duration = ticks(header.duration_in_ticks, header.duration, header.duration_milliseconds)
        if duration is not None and duration < 0:
            problem("duration: negative")
            duration = None
        problems = list(self._problems)
        if self._more_problems:
            problems.append(f"... and {self._more_problems} more problems")
        return ParseOutcome(
            valid=not problems,
            problems=problems,
            phrase_count=self._count,
            source=header.source,
            timestamp=header.timestamp,
            duration_seconds=None if duration is None else duration / TICKS_PER_SECOND,
            locales=list(self._locales),
            channels=sorted(self._channels),
            speakers=sorted(self._speakers, key=_speaker_order),
        )

    def _phrase(self, value: Any) -> None:
        index = self._index
        self._index = index + 1
        if type(value) is not dict:
            self._problem(f"{PHRASES_KEY}[{index}]: expected an object, got {json_type(value)}")
            return
        if not value.get("nBest") and value.get("recognitionStatus", "Success") != "Success":
            return  # a phrase the service failed to recognise carries nothing to show
        try:
            wire = PHRASE.validate_python(value)
        except ValidationError as error:
            self._problem(f"{PHRASES_KEY}[{index}]: {describe(error)}")
            return
        self._accept(wire, index)

    def _batch(self, text: str) -> bool:
        """Phrases framed as one JSON array, decoded and checked against the wire TypedDicts in one C call
        (msgspec: about a third of what pydantic-core's validate_json costs here). All or nothing: any
        problem (bad JSON, a phrase that does not match) sends the batch the one-by-one way, where pydantic
        validates each phrase, skips or reports it exactly. msgspec is stricter than pydantic's lax mode
        (no numbers as strings, no 1.0 as an int, no number beyond a double's range, no NaN), and where both
        accept a value they make the same one, so a batch it takes comes out as pydantic would make it;
        `nBest` must not be empty (msgspec does not read pydantic's min_length)."""
        try:
            phrases = _DECODE_PHRASES(f"[{text}]")
        except msgspec.DecodeError:
            return False
        if not all(phrase["nBest"] for phrase in phrases):
            return False
        index = self._index
        self._index = index + len(phrases)
        for offset, wire in enumerate(phrases):
            self._accept(wire, index + offset)
        return True

    def _accept(self, wire: RecognizedPhrase, index: int) -> None:
        try:
            fields = phrase_fields(wire)
        except UnusablePhrase as error:
            self._problem(f"{PHRASES_KEY}[{index}]: {error}")
            return
        if not (fields["display"].strip() or fields["lexical"].strip()):
            return  # silence recognised as an empty phrase: no format shows it
        self._count += 1
        channel, speaker, locale = fields["channel"], fields["speaker"], fields["locale"]
        if channel is not None:
            self._channels.add(channel)
        if speaker is not None:
            self._speakers.add(speaker)
        if locale is not None:
            self._locales[locale] = None
        self._on_fields(fields)

    def _problem(self, message: str) -> None:
        if len(self._problems) < MAX_PROBLEMS:
            self._problems.append(message)
        else:
            self._more_problems += 1

    def _fail(self, message: str) -> None:
        self._problem(message)
        self._stopped = True

    def _located(self, error: FramingError) -> str:
        if not error.syntax:
            return error.message
        if error.position is None:
            return f"invalid JSON: {error.message}"
        unread = self._framer.unread(error.position).encode("utf-8", "surrogatepass")
        at = self._bytes - len(self._decoder.getstate()[0]) - len(unread)
        return f"invalid JSON at byte {at}: {error.message}"

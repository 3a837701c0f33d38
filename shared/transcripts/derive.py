"""Derived transcripts for one result file: the façade the harvester uses while it copies the raw bytes.

    with Deriver(formats=..., channel_labels=..., spool_dir=...) as deriver:
        for chunk in download: write(chunk); deriver.feed(chunk)
        derived = deriver.finish()
        for output in derived.outputs: upload(output.extension, output.content_type, output.chunks())

Phrases are rendered into every wanted format as they are parsed (onepass.py), each format into its own
temporary file. When a file breaks what that needs (phrases out of time order, a late second voice), the
Deriver starts over on the exact path: the raw bytes it kept in a temporary file are parsed again into a
phrase spool, which finish() renders in time order. `chunks()` streams an output and can be called again to
retry an upload, as long as the Deriver is open: it deletes its files on exit. An invalid file yields no
outputs. Conversations, whose phrases are built by their own client, use derive_from_phrases and the same
renderers.
"""

import os
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import BinaryIO

from shared.redact import strip_sas
from shared.transcripts.model import Channel, Phrase, TranscriptHeader
from shared.transcripts.normalize import PhraseFields
from shared.transcripts.onepass import OnePass
from shared.transcripts.options import CONTENT_TYPES, FORMATS, check_formats
from shared.transcripts.parse import ParseOutcome, ResultFileParser
from shared.transcripts.rendered import CHUNK_BYTES, DerivedOutput, RenderedFiles, renderers
from shared.transcripts.renderer import Renderer, stream
from shared.transcripts.spool import PhraseSpool

__all__ = ["CONTENT_TYPES", "FORMATS", "Derived", "DerivedOutput", "Deriver", "derive_from_phrases"]


@dataclass(frozen=True)
class Derived:
    outcome: ParseOutcome
    outputs: list[DerivedOutput]


def derive_from_phrases(
    header: TranscriptHeader,
    phrases: Iterable[Phrase],
    *,
    formats: Collection[str],
    channel_labels: Mapping[int, str],
) -> list[DerivedOutput]:
    """Outputs rendered on demand. `phrases` must be in time order and re-iterable (a PhraseSpool or a
    list): every `chunks()` call iterates it again."""

    def rendering(make: Callable[[], Renderer]) -> Callable[[], Iterator[bytes]]:
        return lambda: _coalesced(stream(make(), phrases))

    return [
        DerivedOutput(extension, CONTENT_TYPES[extension], rendering(make))
        for extension, make in renderers(formats, header, channel_labels).items()
    ]


def _coalesced(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """Renderers yield small pieces; uploads want few, large chunks."""
    batch: list[bytes] = []
    size = 0
    for piece in pieces:
        batch.append(piece)
        size += len(piece)
        if size >= CHUNK_BYTES:
            yield b"".join(batch)
            batch, size = [], 0
    if batch:
        yield b"".join(batch)


class Deriver:
    """One per result file: feed() every downloaded chunk, then finish(); use as a context manager."""

    def __init__(
        self,
        *,
        formats: Collection[str],
        channel_labels: Mapping[int, str],
        spool_dir: str | None = None,
        source_display: Callable[[str], str] = strip_sas,
        locale: str | None = None,
    ) -> None:
        check_formats(formats)
        self._formats = frozenset(formats)
        self._channel_labels = dict(channel_labels)
        self._spool_dir = spool_dir
        self._source_display = source_display
        self._locale = locale  # the job's locale: result files only name identified ones
        # Without formats the file is still parsed (validity, source) but phrases are not kept.
        self._onepass: OnePass | None = None
        self._raw: BinaryIO | None = None  # the bytes fed so far, while the one pass may still break
        self._spool: PhraseSpool | None = None
        on_fields: Callable[[PhraseFields], None] = _discard
        if self._formats:
            self._onepass = OnePass(
                self._formats, self._channel_labels, spool_dir, lambda: self.header(self._parser.so_far())
            )
            self._raw = tempfile.TemporaryFile(dir=spool_dir, prefix="result-")  # noqa: SIM115 - closed by close()
            on_fields = self._onepass.add
        self._parser = ResultFileParser.fields_parser(on_fields)
        self._files: RenderedFiles | None = None
        self._derived: Derived | None = None

    def feed(self, chunk: bytes) -> None:
        if self._raw is not None:
            self._raw.write(chunk)
        self._parser.feed(chunk)
        if self._onepass is not None and self._onepass.broken:
            self._start_over()

    def finish(self) -> Derived:
        if self._derived is None:
            outcome = self._parser.close()
            outputs: list[DerivedOutput] = []
            if outcome.valid and self._formats:
                header = self.header(outcome)
                streamed = None if self._onepass is None else self._onepass.finish(header)
                if streamed is not None:
                    outputs = streamed
                elif self._onepass is not None:
                    self._start_over()
                    self._parser.close()  # the same outcome, now with every phrase in the spool
                if self._spool is not None:
                    outputs = self._render(header, self._spool)
            self._derived = Derived(outcome=outcome, outputs=outputs)
        return self._derived

    def header(self, outcome: ParseOutcome) -> TranscriptHeader:
        return TranscriptHeader(
            source=self._source_display(outcome.source) if outcome.source else None,
            timestamp=outcome.timestamp,
            duration_seconds=outcome.duration_seconds,
            locale=_locale(outcome.locales, self._locale),
            locales=outcome.locales,
            channels=[Channel(channel=c, label=self._channel_labels.get(c)) for c in outcome.channels],
            speakers=outcome.speakers,
        )

    def _start_over(self) -> None:
        """The exact path: parse the bytes fed so far again, into a spool; later chunks follow them."""
        onepass, raw = self._onepass, self._raw
        if onepass is None or raw is None:
            return
        onepass.close()
        self._onepass = self._raw = None
        self._spool = PhraseSpool(self._spool_dir)
        self._parser = ResultFileParser.fields_parser(self._spool.add_fields)
        with raw:
            raw.flush()
            offset = 0
            while chunk := os.pread(raw.fileno(), CHUNK_BYTES, offset):
                offset += len(chunk)
                self._parser.feed(chunk)

    def _render(self, header: TranscriptHeader, spool: PhraseSpool) -> list[DerivedOutput]:
        """All formats in one pass over the spool, each into its own temporary file."""
        files = self._files = RenderedFiles(self._formats, header, self._channel_labels, self._spool_dir)
        for phrase in spool.spoken():
            files.add(phrase)
        files.end()
        return files.outputs()

    def close(self) -> None:
        for part in (self._files, self._onepass, self._raw, self._spool):
            if part is not None:
                part.close()

    def __enter__(self) -> "Deriver":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def _locale(identified: list[str], job_locale: str | None) -> str | None:
    """The transcript's one locale: the identified one, none when several were, else the job's."""
    if identified:
        return identified[0] if len(identified) == 1 else None
    return job_locale


def _discard(fields: PhraseFields) -> None:
    """on_fields when no format is wanted."""

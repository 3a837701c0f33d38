"""Derived transcripts for one result file: the façade the harvester uses while it copies the raw bytes.

    with Deriver(formats=..., channel_labels=..., spool_dir=...) as deriver:
        for chunk in download: write(chunk); deriver.feed(chunk)
        derived = deriver.finish()
        for output in derived.outputs: upload(output.extension, output.content_type, output.chunks())

finish() renders every wanted format in one pass over the phrase spool (reading the spool once, not once per
format) into temporary files next to it; `chunks()` streams a file and can be called again to retry an
upload, as long as the Deriver is open: it deletes its files on exit. An invalid file yields no outputs.
Conversations, whose phrases are built by their own client, use derive_from_phrases and the same renderers.
"""

import os
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import BinaryIO

from shared.redact import strip_sas
from shared.transcripts.captions import SrtRenderer, VttRenderer
from shared.transcripts.labels import Labels
from shared.transcripts.model import Channel, Phrase, TranscriptHeader
from shared.transcripts.normalize import PhraseFields
from shared.transcripts.options import CONTENT_TYPES, FORMATS, check_formats
from shared.transcripts.parse import ParseOutcome, ResultFileParser
from shared.transcripts.render_json import JsonRenderer
from shared.transcripts.render_text import TextRenderer
from shared.transcripts.renderer import Renderer, stream
from shared.transcripts.spool import PhraseSpool

CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class DerivedOutput:
    extension: str
    content_type: str
    chunks: Callable[[], Iterator[bytes]]  # the whole document from its start, on every call


@dataclass(frozen=True)
class Derived:
    outcome: ParseOutcome
    outputs: list[DerivedOutput]


def _renderers(
    formats: Collection[str], header: TranscriptHeader, channel_labels: Mapping[int, str]
) -> dict[str, Callable[[], Renderer]]:
    """A fresh renderer per wanted format, in FORMATS order."""
    check_formats(formats)
    labels = Labels.for_transcript(header, channel_labels)
    makers: dict[str, Callable[[], Renderer]] = {
        "json": lambda: JsonRenderer(header),
        "txt": lambda: TextRenderer(labels),
        "srt": lambda: SrtRenderer(labels, header.duration_seconds),
        "vtt": lambda: VttRenderer(labels, header.duration_seconds),
    }
    return {extension: makers[extension] for extension in FORMATS if extension in formats}


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
        for extension, make in _renderers(formats, header, channel_labels).items()
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


def _file_chunks(file: BinaryIO) -> Callable[[], Iterator[bytes]]:
    def chunks() -> Iterator[bytes]:
        offset = 0
        while chunk := os.pread(file.fileno(), CHUNK_BYTES, offset):
            offset += len(chunk)
            yield chunk

    return chunks


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
        self._spool = PhraseSpool(spool_dir) if self._formats else None
        self._parser = ResultFileParser.fields_parser(
            self._spool.add_fields if self._spool is not None else _discard
        )
        self._files: list[BinaryIO] = []
        self._derived: Derived | None = None

    def feed(self, chunk: bytes) -> None:
        self._parser.feed(chunk)

    def finish(self) -> Derived:
        if self._derived is None:
            outcome = self._parser.close()
            outputs: list[DerivedOutput] = []
            if outcome.valid and self._spool is not None:
                outputs = self._render(self.header(outcome), self._spool)
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

    def _render(self, header: TranscriptHeader, spool: PhraseSpool) -> list[DerivedOutput]:
        """All formats in one pass over the spool, each into its own temporary file."""
        targets: list[tuple[str, Renderer, BinaryIO]] = []
        for extension, make in _renderers(self._formats, header, self._channel_labels).items():
            spooled: BinaryIO = tempfile.TemporaryFile(dir=self._spool_dir, prefix=f"transcript-{extension}-")  # noqa: SIM115
            self._files.append(spooled)
            targets.append((extension, make(), spooled))
        for phrase in spool.spoken():
            for _, renderer, file in targets:
                file.write(renderer.add(phrase))
        outputs = []
        for extension, renderer, file in targets:
            file.write(renderer.close())
            file.flush()
            outputs.append(DerivedOutput(extension, CONTENT_TYPES[extension], _file_chunks(file)))
        return outputs

    def close(self) -> None:
        for file in self._files:
            file.close()
        if self._spool is not None:
            self._spool.close()

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
    """on_phrase when no format is wanted."""

"""The wanted formats, rendered into temporary files: a fresh renderer per format, writing its output in
large pieces (a phrase yields a few hundred bytes per format; a write per piece cost more than some
renderers), each file readable again from its start for every upload attempt."""

import os
import tempfile
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO

from shared.transcripts.captions import SrtRenderer, VttRenderer
from shared.transcripts.labels import Labels
from shared.transcripts.model import TranscriptHeader
from shared.transcripts.options import CONTENT_TYPES, FORMATS, check_formats
from shared.transcripts.render_json import JsonRenderer
from shared.transcripts.render_text import TextRenderer
from shared.transcripts.renderer import Renderer
from shared.transcripts.spoken import Spoken

CHUNK_BYTES = 1024 * 1024
FLUSH_PHRASES = 256  # about 0.5 MB of output in all


@dataclass(frozen=True)
class DerivedOutput:
    extension: str
    content_type: str
    chunks: Callable[[], Iterator[bytes]]  # the whole document from its start, on every call


def renderers(
    formats: Collection[str],
    header: TranscriptHeader,
    channel_labels: Mapping[int, str],
    *,
    json_header: bool = True,
) -> dict[str, Callable[[], Renderer]]:
    """A fresh renderer per wanted format, in FORMATS order. Without `json_header` the JSON renderer leaves
    out the document's head (render_json.json_head), for a caller that writes it once the header is final."""
    check_formats(formats)
    labels = Labels.for_transcript(header, channel_labels)
    makers: dict[str, Callable[[], Renderer]] = {
        "json": lambda: JsonRenderer(header if json_header else None),
        "txt": lambda: TextRenderer(labels),
        "srt": lambda: SrtRenderer(labels, header.duration_seconds),
        "vtt": lambda: VttRenderer(labels, header.duration_seconds),
    }
    return {extension: makers[extension] for extension in FORMATS if extension in formats}


class RenderedFiles:
    """Every wanted format's renderer and the anonymous temporary file it writes: add() each phrase in time
    order, end(), then outputs(); close() in any case. Output waits in memory for FLUSH_PHRASES phrases and
    is then written in one piece per format."""

    def __init__(
        self,
        formats: Collection[str],
        header: TranscriptHeader,
        channel_labels: Mapping[int, str],
        directory: str | None,
        *,
        json_header: bool = True,
    ) -> None:
        makers = renderers(formats, header, channel_labels, json_header=json_header)
        self._renderers = {extension: make() for extension, make in makers.items()}
        self._files = {
            extension: tempfile.TemporaryFile(dir=directory, prefix=f"transcript-{extension}-")  # noqa: SIM115
            for extension in makers
        }
        self._pieces: dict[str, list[bytes]] = {extension: [] for extension in makers}
        self._sinks = [
            (renderer.add, self._pieces[extension]) for extension, renderer in self._renderers.items()
        ]
        self._waiting = 0

    def add(self, phrase: Spoken) -> None:
        for render, pieces in self._sinks:
            pieces.append(render(phrase))
        self._waiting += 1
        if self._waiting >= FLUSH_PHRASES:
            self._flush()

    def _flush(self) -> None:
        for extension, pieces in self._pieces.items():
            self._files[extension].write(b"".join(pieces))
            pieces.clear()
        self._waiting = 0

    def end(self) -> None:
        """The rest of each document; nothing may be added after it."""
        for extension, renderer in self._renderers.items():
            self._pieces[extension].append(renderer.close())
        self._flush()
        for file in self._files.values():
            file.flush()

    def outputs(self, json_head: bytes = b"") -> list[DerivedOutput]:
        """Each document as an upload reads it, after end(); `json_head` goes before the JSON file's bytes."""
        return [
            DerivedOutput(
                extension, CONTENT_TYPES[extension], _chunks(file, json_head if extension == "json" else b"")
            )
            for extension, file in self._files.items()
        ]

    def close(self) -> None:
        for file in self._files.values():
            file.close()


def _chunks(file: BinaryIO, head: bytes) -> Callable[[], Iterator[bytes]]:
    def chunks() -> Iterator[bytes]:
        fd = file.fileno()  # ValueError once the file is closed (and so deleted)
        if head:
            yield head
        offset = 0
        while chunk := os.pread(fd, CHUNK_BYTES, offset):
            offset += len(chunk)
            yield chunk

    return chunks

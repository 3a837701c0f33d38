"""The wanted formats, rendered into temporary files: a fresh renderer per format, each writing its output
in large pieces (a phrase yields a few hundred bytes per format; a write per piece cost more than some
renderers), and each file readable again from its start for every upload attempt."""

import os
import tempfile
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass

from shared.transcripts.captions import SrtRenderer, VttRenderer
from shared.transcripts.labels import Labels
from shared.transcripts.model import TranscriptHeader
from shared.transcripts.options import CONTENT_TYPES, FORMATS, check_formats
from shared.transcripts.render_json import JsonRenderer
from shared.transcripts.render_text import TextRenderer
from shared.transcripts.renderer import Renderer
from shared.transcripts.spoken import Spoken

CHUNK_BYTES = 1024 * 1024


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


class RenderedFile:
    """One format's renderer and the anonymous temporary file it writes; close() it (or the file) when done."""

    def __init__(self, extension: str, renderer: Renderer, directory: str | None) -> None:
        self.extension = extension
        self.file = tempfile.TemporaryFile(dir=directory, prefix=f"transcript-{extension}-")  # noqa: SIM115
        self._renderer = renderer
        self._render = renderer.add
        self._pending = bytearray()

    @classmethod
    def each(
        cls,
        formats: Collection[str],
        header: TranscriptHeader,
        channel_labels: Mapping[int, str],
        directory: str | None,
        *,
        json_header: bool = True,
    ) -> list["RenderedFile"]:
        makers = renderers(formats, header, channel_labels, json_header=json_header)
        return [cls(extension, make(), directory) for extension, make in makers.items()]

    def add(self, phrase: Spoken) -> None:
        piece = self._render(phrase)
        if piece:
            pending = self._pending
            pending += piece
            if len(pending) >= CHUNK_BYTES:
                self.file.write(pending)
                pending.clear()

    def end(self) -> None:
        """The rest of the document; nothing may be added after it."""
        self._pending += self._renderer.close()
        self.file.write(self._pending)
        self._pending.clear()
        self.file.flush()

    def output(self, head: bytes = b"") -> DerivedOutput:
        """The document (`head`, then the file) as an upload reads it, after end()."""

        def chunks() -> Iterator[bytes]:
            fd = self.file.fileno()  # ValueError once the file is closed (and so deleted)
            if head:
                yield head
            offset = 0
            while chunk := os.pread(fd, CHUNK_BYTES, offset):
                offset += len(chunk)
                yield chunk

        return DerivedOutput(self.extension, CONTENT_TYPES[self.extension], chunks)

    def close(self) -> None:
        self.file.close()

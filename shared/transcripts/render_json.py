"""The normalised transcript as one JSON document, streamed: header fields, then one phrase per line."""

from collections.abc import Iterable, Iterator

from shared.transcripts.model import Phrase, TranscriptHeader
from shared.transcripts.renderer import stream
from shared.transcripts.spoken import Spoken


def json_head(header: TranscriptHeader) -> bytes:
    """The document up to its first phrase."""
    return header.model_dump_json().encode()[:-1] + b',"phrases":['


class JsonRenderer:
    """A `Transcript` document (model.py) without ever holding more than one phrase of it. Without a header,
    only what follows json_head: for a caller that learns the header after the phrases."""

    def __init__(self, header: TranscriptHeader | None) -> None:
        self._head: bytes | None = b"" if header is None else json_head(header)

    def add(self, phrase: Spoken) -> bytes:
        if self._head is None:
            return b",\n" + phrase.line
        head, self._head = self._head, None
        return head + b"\n" + phrase.line

    def close(self) -> bytes:
        head, self._head = self._head or b"", None
        return head + b"\n]}\n"


def render_json(header: TranscriptHeader, phrases: Iterable[Phrase]) -> Iterator[bytes]:
    return stream(JsonRenderer(header), phrases)

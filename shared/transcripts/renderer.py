"""The shape every output format shares: a renderer takes phrases one at a time and returns the bytes that
became final, so one pass over the spool can feed all formats at once, and each format can also be streamed
on its own (`stream`). Renderers read `Spoken` views (spoken.py), not pydantic models: cheaper by far."""

from collections.abc import Iterable, Iterator
from typing import Protocol

from shared.transcripts.model import Phrase
from shared.transcripts.spoken import Spoken


class Renderer(Protocol):
    def add(self, phrase: Spoken) -> bytes:
        """Output made final by this phrase (often empty); phrases come in time order."""
        ...

    def close(self) -> bytes:
        """The rest of the document."""
        ...


def stream(renderer: Renderer, phrases: Iterable[Phrase | Spoken]) -> Iterator[bytes]:
    for phrase in phrases:
        piece = renderer.add(phrase if isinstance(phrase, Spoken) else Spoken.of(phrase))
        if piece:
            yield piece
    yield renderer.close()

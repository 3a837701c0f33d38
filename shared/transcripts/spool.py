"""Phrases on disk, read back in time order: the renderers need the whole transcript sorted, memory must not.

A stereo result lists one channel's phrases and then the other's, or interleaves them; readers want them
by time. Each phrase is written as one JSON line to an anonymous temporary file; memory holds only a compact
index (start, channel, offset, size: 32 bytes a phrase, about 4 MB for a 500 MB result file).
"""

import os
import tempfile
from array import array
from collections.abc import Iterator
from types import TracebackType

from pydantic import TypeAdapter

from shared.transcripts.model import Phrase

_PHRASE = TypeAdapter(Phrase)


class PhraseSpool:
    """add() phrases in any order; iterate (as often as needed) in (start, channel, arrival) order."""

    def __init__(self, directory: str | None = None) -> None:
        self._file = tempfile.TemporaryFile(dir=directory, prefix="phrases-")  # noqa: SIM115 - closed by close()
        self._starts = array("d")
        self._channels = array("q")
        self._offsets = array("q")
        self._sizes = array("q")
        self._end = 0

    def add(self, phrase: Phrase) -> None:
        line = _PHRASE.dump_json(phrase)
        self._file.write(line)
        self._starts.append(phrase.start)
        self._channels.append(-1 if phrase.channel is None else phrase.channel)
        self._offsets.append(self._end)
        self._sizes.append(len(line))
        self._end += len(line)

    def __len__(self) -> int:
        return len(self._sizes)

    def __iter__(self) -> Iterator[Phrase]:
        self._file.flush()
        fd, offsets, sizes = self._file.fileno(), self._offsets, self._sizes
        for index in self._order():
            yield _PHRASE.validate_json(os.pread(fd, sizes[index], offsets[index]))

    def _order(self) -> range | list[int]:
        """Arrival order when it already is time order (the usual case, no allocation), else a sort."""
        starts, channels = self._starts, self._channels
        count = len(starts)
        if all((starts[i - 1], channels[i - 1]) <= (starts[i], channels[i]) for i in range(1, count)):
            return range(count)
        return sorted(range(count), key=lambda i: (starts[i], channels[i]))  # stable: arrival breaks ties

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "PhraseSpool":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

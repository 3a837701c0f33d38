"""Phrases on disk, read back in time order: the renderers need the whole transcript sorted, memory must not.

A stereo result lists one channel's phrases and then the other's, or interleaves them; readers want them
by time. Each phrase is written to an anonymous temporary file as its normalised JSON line (serialised once,
here: the JSON renderer copies it) followed by a marshal record of what the text and caption renderers read
(marshal, because it is the cheapest way to read plain values back). Memory holds only a compact index
(start, channel, offset, sizes: 40 bytes a phrase, about 5 MB for a 500 MB result file).
"""

import marshal
import os
import tempfile
from array import array
from collections.abc import Iterator
from types import TracebackType

from pydantic import TypeAdapter

from shared.transcripts.model import Phrase
from shared.transcripts.normalize import PhraseFields
from shared.transcripts.spoken import Spoken

_PHRASE = TypeAdapter(Phrase)


class PhraseSpool:
    """add() phrases in any order; iterate (as often as needed) in (start, channel, arrival) order."""

    def __init__(self, directory: str | None = None) -> None:
        self._file = tempfile.TemporaryFile(dir=directory, prefix="phrases-")  # noqa: SIM115 - closed by close()
        self._starts = array("d")
        self._channels = array("q")
        self._offsets = array("q")
        self._lines = array("q")  # size of the JSON line; the record follows it
        self._sizes = array("q")
        self._end = 0

    def add(self, phrase: Phrase) -> None:
        self.add_fields(phrase.model_dump())

    def add_fields(self, fields: PhraseFields) -> None:
        """A normalised phrase as plain values (normalize.phrase_fields)."""
        spoken = Spoken.of_fields(fields)
        line = spoken.line
        record = marshal.dumps(spoken[:6])
        self._file.write(line)
        self._file.write(record)
        self._starts.append(spoken.start)
        channel = spoken.channel
        self._channels.append(-1 if channel is None else channel)
        self._offsets.append(self._end)
        self._lines.append(len(line))
        size = len(line) + len(record)
        self._sizes.append(size)
        self._end += size

    def __len__(self) -> int:
        return len(self._sizes)

    def __iter__(self) -> Iterator[Phrase]:
        for spoken in self.spoken():
            yield _PHRASE.validate_json(spoken.line)

    def spoken(self) -> Iterator[Spoken]:
        """The phrases in time order as the renderers read them."""
        self._file.flush()
        fd, offsets, lines, sizes, loads = (
            self._file.fileno(),
            self._offsets,
            self._lines,
            self._sizes,
            marshal.loads,
        )
        for index in self._order():
            data = os.pread(fd, sizes[index], offsets[index])
            length = lines[index]
            # marshal gives an untyped tuple of the first six fields; the raw line is the seventh.
            yield Spoken(*loads(data[length:]), data[:length])  # type: ignore[call-arg]

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

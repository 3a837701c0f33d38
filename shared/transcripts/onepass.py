"""One pass: phrases rendered into every format as they are parsed, when the file allows it.

Rendering exactly needs facts that only the whole file tells: the phrases' time order (a stereo result may
list one channel's phrases after the other's), whether voices are labelled (more than one channel or
speaker: labels.py) and the audio's end (captions end there; a header field, normally before the phrases).
Most files settle these early: their phrases come in time order, and a second voice, if any, speaks within
the first few hundred phrases. So phrases wait in a window of WINDOW_PHRASES until a second voice makes
labels certain (they stay shown) or the window fills (one voice assumed); from then on each goes straight
into the renderers. A phrase out of time order, or a voice that changes the labels after the window, breaks
the assumption (`broken`); so does a header that ends up different from the one rendering went by
(finish() returns None). Then the caller starts over on the exact path (spool, sort, render), so the outputs
are the same either way: this saves writing every phrase to disk and reading it back.
"""

from collections.abc import Callable, Collection, Mapping
from math import inf

from shared.transcripts.labels import Labels
from shared.transcripts.model import TranscriptHeader
from shared.transcripts.normalize import PhraseFields
from shared.transcripts.render_json import json_head
from shared.transcripts.rendered import DerivedOutput, RenderedFiles
from shared.transcripts.spoken import Spoken

WINDOW_PHRASES = 500


class OnePass:
    """add() every phrase as parsed, then finish() with the file's header; close() in any case.
    `header_so_far` gives the header as the phrases and header fields read so far make it."""

    def __init__(
        self,
        formats: Collection[str],
        channel_labels: Mapping[int, str],
        directory: str | None,
        header_so_far: Callable[[], TranscriptHeader],
    ) -> None:
        self._formats = formats
        self._channel_labels = channel_labels
        self._directory = directory
        self._header_so_far = header_so_far
        self._window: list[Spoken] = []  # phrases waiting until rendering starts
        self._assumed: tuple[Labels, float | None] | None = None  # the labels and audio end rendered by
        self._files: RenderedFiles | None = None  # once rendering has started
        self._channels: set[int | None] = set()
        self._speakers: set[str | None] = set()
        self._last = (-inf, -1)
        self.broken = False

    def add(self, fields: PhraseFields) -> None:
        if self.broken:
            return
        phrase = Spoken.of_fields(fields)
        channel, speaker = phrase.channel, phrase.speaker
        order = (phrase.start, -1 if channel is None else channel)  # the spool's order; ties keep arrival
        if order < self._last:
            self.broken = True
            return
        self._last = order
        new_voice = channel not in self._channels or speaker not in self._speakers
        if new_voice:
            self._channels.add(channel)
            self._speakers.add(speaker)
        files = self._files
        if files is None:
            window = self._window
            window.append(phrase)
            if len(window) >= WINDOW_PHRASES:
                self._start(self._header_so_far())
            elif new_voice:
                header = self._header_so_far()
                if Labels.for_transcript(header, self._channel_labels).shown:
                    self._start(header)
            return
        if new_voice and self._assumptions(self._header_so_far()) != self._assumed:
            self.broken = True
            return
        files.add(phrase)

    def finish(self, header: TranscriptHeader) -> list[DerivedOutput] | None:
        """The outputs, or None when the file broke an assumption (nothing is rendered then)."""
        if self.broken:
            return None
        files = self._files or self._start(header)
        if self._assumptions(header) != self._assumed:
            return None
        files.end()
        return files.outputs(json_head(header))

    def _assumptions(self, header: TranscriptHeader) -> tuple[Labels, float | None]:
        return Labels.for_transcript(header, self._channel_labels), header.duration_seconds

    def _start(self, header: TranscriptHeader) -> RenderedFiles:
        """Render by `header` from now on, beginning with the phrases in the window."""
        self._assumed = self._assumptions(header)
        files = self._files = RenderedFiles(
            self._formats, header, self._channel_labels, self._directory, json_header=False
        )
        for phrase in self._window:
            files.add(phrase)
        self._window.clear()
        return files

    def close(self) -> None:
        if self._files is not None:
            self._files.close()

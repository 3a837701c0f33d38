"""Who is speaking, as a reader should see it: "Speaker 1", "Agent", "Channel 0", or nothing at all.

Labels only appear when there is more than one voice to tell apart (several channels or several speakers);
a single-channel, single-speaker transcript reads better without them.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.transcripts.model import TranscriptHeader
from shared.transcripts.spoken import Spoken


def clean_label(text: str) -> str:
    """One line, single spaces: labels come from settings and conversation user ids."""
    return " ".join("".join(char if char.isprintable() else " " for char in text).split())


def speaker_label(speaker: str) -> str:
    """Diarization numbers speakers ("1" -> "Speaker 1"); conversations name them (user ids, kept)."""
    return f"Speaker {speaker}" if speaker.isdigit() else clean_label(speaker) or "Speaker"


@dataclass(frozen=True)
class Labels:
    """The label of each phrase; `shown` is False for a single voice, and then no phrase has one."""

    shown: bool = False
    channel_names: Mapping[int, str] = field(default_factory=dict)

    @classmethod
    def for_transcript(
        cls, header: TranscriptHeader, channel_labels: Mapping[int, str] | None = None
    ) -> "Labels":
        """Names from CHANNEL_LABELS first, then from the header's channels."""
        names = {channel.channel: channel.label for channel in header.channels if channel.label}
        names.update(channel_labels or {})
        shown = len(header.channels) > 1 or len(header.speakers) > 1
        return cls(shown=shown, channel_names={number: clean_label(name) for number, name in names.items()})

    def of(self, phrase: Spoken) -> str | None:
        """The phrase's label, or None when labels are not shown."""
        if not self.shown:
            return None
        if phrase.speaker is not None:
            return speaker_label(phrase.speaker)
        if phrase.channel is not None:
            return self.channel_names.get(phrase.channel) or f"Channel {phrase.channel}"
        return None

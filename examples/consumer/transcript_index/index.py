"""The consumer's logic, shared by both triggers: a manifest (and its .txt transcripts) becomes one index row.

Pure functions build the row; `Indexer` reads blobs and writes the row. The row is an upsert keyed by the
job, so indexing a job twice (the blob trigger and the queue, or a redelivered event) changes nothing; an
event whose id the row already records is dropped as a duplicate before any blob is read.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Protocol

from .contract import Manifest, TranscriptEvent

FIRST_WORDS = 200
# A .txt paragraph starts "[hh:mm:ss] " and, when the transcript has several voices, "Label: ".
_PARAGRAPH = re.compile(r"^\[(\d+):(\d\d):(\d\d)\] (?:([^:\n]{1,60}): )?(.*)$")

log = logging.getLogger("transcript_index")


class Blobs(Protocol):
    def read(self, path: str) -> bytes | None: ...

    def url(self, path: str) -> str: ...


class Rows(Protocol):
    def get(self, kind: str, job_id: str) -> dict[str, Any] | None: ...

    def upsert(self, row: dict[str, Any]) -> None:
        """Insert the row, or merge its fields into the stored one (fields it lacks keep their value)."""
        ...


@dataclass(frozen=True)
class TextSummary:
    speakers: list[str]
    first_words: str


def summarize_text(text: str) -> TextSummary:
    """Voices as the .txt labels them (none when a single voice), and the start of what was said."""
    speakers: list[str] = []
    words: list[str] = []
    for line in text.splitlines():
        match = _PARAGRAPH.match(line)
        if match is None:
            continue
        label, said = match.group(4), match.group(5)
        if label and label not in speakers:
            speakers.append(label)
        if sum(len(w) + 1 for w in words) < FIRST_WORDS:
            words.extend(said.split())
    first = " ".join(words)
    return TextSummary(speakers, first if len(first) <= FIRST_WORDS else first[: FIRST_WORDS - 1] + "…")


def index_row(
    manifest: Manifest,
    manifest_url: str,
    texts: list[str],
    text_urls: list[str],
    *,
    via: str,
    event_id: str | None,
) -> dict[str, Any]:
    """The index row of one job (Azure Table entity: PartitionKey = kind, RowKey = job id)."""
    summaries = [summarize_text(text) for text in texts]
    speakers = list(dict.fromkeys(s for summary in summaries for s in summary.speakers))
    return {
        "PartitionKey": manifest.kind,
        "RowKey": manifest.id,
        "status": manifest.status,
        "displayName": manifest.display_name or "",
        "locale": manifest.locale or "",
        "durationSeconds": manifest.audio_duration_seconds,
        "speakers": ", ".join(speakers),
        "firstWords": next((s.first_words for s in summaries if s.first_words), ""),
        "error": manifest.error.code if manifest.error and manifest.error.code else "",
        "manifestUrl": manifest_url,
        "transcriptUrls": " ".join(text_urls),
        "harvestedAt": manifest.harvested_at,
        "indexedVia": via,
        "eventId": event_id or "",
    }


@dataclass
class Indexer:
    blobs: Blobs
    rows: Rows

    def index_manifest(
        self, data: bytes, manifest_path: str, *, via: str, event_id: str | None = None
    ) -> dict[str, Any]:
        manifest = Manifest.model_validate_json(data)
        paths = manifest.text_blobs()
        texts = [(self.blobs.read(path) or b"").decode("utf-8") for path in paths]
        row = index_row(
            manifest,
            self.blobs.url(manifest_path),
            texts,
            [self.blobs.url(p) for p in paths],
            via=via,
            event_id=event_id,
        )
        # The blob trigger knows no event id: it leaves the one the queue trigger recorded, whichever of the two
        # runs last (they race: the event is published moments after the manifest is written).
        self.rows.upsert(row if event_id else {k: v for k, v in row.items() if k != "eventId"})
        log.info(
            "indexed %s %s via %s: status=%s duration=%ss speakers=[%s] first words: %s",
            manifest.kind,
            manifest.id,
            via,
            manifest.status,
            manifest.audio_duration_seconds,
            row["speakers"],
            row["firstWords"][:80],
        )
        return row

    def index_event(self, body: bytes) -> dict[str, Any] | None:
        """A queue message holding a transcript-ready event; None when it is a duplicate (dropped)."""
        event = TranscriptEvent.model_validate_json(body)
        existing = self.rows.get(event.data.kind, event.data.id)
        if existing is not None and existing.get("eventId") == event.id:
            log.info("duplicate event %s for %s %s dropped", event.id, event.data.kind, event.data.id)
            return None
        data = self.blobs.read(event.subject)
        if data is None:
            raise LookupError(f"manifest {event.subject} not found (is TRANSCRIPTS_CONTAINER right?)")
        return self.index_manifest(data, event.subject, via="queue", event_id=event.id)

"""JSON Schemas of every JSON document the app publishes, generated from the pydantic models that write them.

`python -m shared.schemas [folder]` (`make schemas`) writes them to docs/schemas/; a test fails when a
committed schema no longer matches its model, so the documented shape can never drift from the code. Each
schema says which version of the document it describes, where the document carries one (`schemaVersion`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from shared import manifest, queueing
from shared.events import TranscriptEvent
from shared.manifest import Manifest
from shared.queueing import HarvestRequest, PoisonEnvelope
from shared.status import StatusReport
from shared.submission import JobStatus
from shared.transcripts import model as transcript_model
from shared.transcripts.model import Transcript

FOLDER = Path(__file__).resolve().parent.parent / "docs" / "schemas"


class Published:
    """One published document: its file name, model, version (None: an API answer without one) and title."""

    def __init__(self, name: str, model: type[BaseModel], version: str | None, title: str) -> None:
        self.name, self.model, self.version, self.title = name, model, version, title

    @property
    def file_name(self) -> str:
        return f"{self.name}.schema.json"

    def schema(self) -> dict[str, Any]:
        generated = self.model.model_json_schema(by_alias=True, mode="serialization")
        generated.pop("title", None)
        if self.version is not None:
            # A document of this schema carries exactly this version: a reader can tell at once.
            generated["properties"]["schemaVersion"]["const"] = self.version
        header = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": self.title}
        return {**header, **generated}

    def text(self) -> str:
        return json.dumps(self.schema(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


PUBLISHED = (
    Published("manifest", Manifest, manifest.SCHEMA_VERSION, "manifest.json, written last for every job"),
    Published(
        "transcript",
        Transcript,
        transcript_model.SCHEMA_VERSION,
        "transcript/<stem>.json, one per result file",
    ),
    Published(
        "poison-envelope",
        PoisonEnvelope,
        queueing.POISON_SCHEMA_VERSION,
        "A message on <HARVEST_QUEUE>-poison, wrapped with its reason",
    ),
    Published("harvest-request", HarvestRequest, None, "A message on <HARVEST_QUEUE> (base64 text)"),
    Published("status", StatusReport, None, "GET /api/status"),
    Published("job-status", JobStatus, None, "GET /api/transcriptions/{id} and /api/conversations/{id}"),
    Published("transcript-event", TranscriptEvent, None, "The transcript-ready CloudEvent"),
)


def write(folder: Path = FOLDER) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for document in PUBLISHED:
        path = folder / document.file_name
        path.write_text(document.text(), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1]) if len(sys.argv) > 1 else FOLDER):
        print(path)

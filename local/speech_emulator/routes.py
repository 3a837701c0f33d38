"""The Speech API route table: one entry per operation, with the version-independent key that stats and
fault rules use, and the path families (v3.2 path, 2024+ query) it exists in."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.routing import Route

from local.speech_emulator import files, transcriptions
from local.speech_emulator.pipeline import Handler, speech_endpoint
from local.speech_emulator.versions import Family

BOTH = (Family.PATH, Family.QUERY)


@dataclass(frozen=True)
class SpeechRoute:
    method: str
    path: str
    handler: Handler
    families: tuple[Family, ...] = BOTH

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


SPEECH_ROUTES: tuple[SpeechRoute, ...] = (
    SpeechRoute("GET", "/transcriptions/locales", transcriptions.locales),
    SpeechRoute("GET", "/transcriptions", transcriptions.list_transcriptions),
    SpeechRoute("POST", "/transcriptions", transcriptions.create, (Family.PATH,)),
    SpeechRoute("POST", "/transcriptions:submit", transcriptions.create, (Family.QUERY,)),
    SpeechRoute("GET", "/transcriptions/{id}", transcriptions.get_transcription),
    SpeechRoute("PATCH", "/transcriptions/{id}", transcriptions.update),
    SpeechRoute("DELETE", "/transcriptions/{id}", transcriptions.delete),
    SpeechRoute("GET", "/transcriptions/{id}/files", files.list_files),
    SpeechRoute("GET", "/transcriptions/{id}/files/{fileId}", files.get_file),
)
ROUTE_KEYS = frozenset(route.key for route in SPEECH_ROUTES)


def speech_routes(family: Family) -> list[Route]:
    return [
        Route(route.path, speech_endpoint(route.key, family, route.handler), methods=[route.method])
        for route in SPEECH_ROUTES
        if family in route.families
    ]

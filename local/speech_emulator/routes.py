"""The route tables: one entry per operation, with the version-independent key that stats and fault rules use.

Speech API routes name the path families (v3.2 path, 2024+ query) they exist in; the conversation transcription
routes are unversioned and live under their own prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.routing import Route

from local.speech_emulator import files, offlinetask, transcriptions, webhooks
from local.speech_emulator.pipeline import Handler, Respond, guarded_endpoint, speech_endpoint
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
    SpeechRoute("GET", "/webhooks", webhooks.list_webhooks),
    SpeechRoute("POST", "/webhooks", webhooks.create),
    SpeechRoute("POST", "/webhooks/{id}:ping", webhooks.ping),
    SpeechRoute("POST", "/webhooks/{id}:test", webhooks.test),
    SpeechRoute("GET", "/webhooks/{id}", webhooks.get_webhook),
    SpeechRoute("PATCH", "/webhooks/{id}", webhooks.update),
    SpeechRoute("DELETE", "/webhooks/{id}", webhooks.delete),
)


@dataclass(frozen=True)
class ConversationRoute:
    method: str
    path: str
    handler: Respond[str]  # gets the checked conversation id

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


CONVERSATION_ROUTES: tuple[ConversationRoute, ...] = (
    ConversationRoute("GET", "/offlinetask", offlinetask.get_offline_task),
    ConversationRoute("DELETE", "/offlinetask", offlinetask.delete_offline_task),
)
ROUTE_KEYS = frozenset(route.key for route in SPEECH_ROUTES) | frozenset(
    route.key for route in CONVERSATION_ROUTES
)


def speech_routes(family: Family) -> list[Route]:
    return [
        Route(route.path, speech_endpoint(route.key, family, route.handler), methods=[route.method])
        for route in SPEECH_ROUTES
        if family in route.families
    ]


def conversation_routes() -> list[Route]:
    return [
        Route(
            route.path,
            guarded_endpoint(route.key, offlinetask.conversation_id, route.handler),
            methods=[route.method],
        )
        for route in CONVERSATION_ROUTES
    ]

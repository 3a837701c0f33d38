"""The internal web hook model, the in-memory registry of hooks, and rendering a hook per API version.

A hook remembers the API version and endpoint it was registered through: its callbacks carry entities in that
version's shape (properties.apiVersion), with URLs a receiver can GET, as on the service. Event names are the
JSON names of WebHookEvents; the X-MicrosoftSpeechServices-Event header carries them in PascalCase.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from local.speech_emulator.filters import Kind
from local.speech_emulator.isotime import format_timestamp
from local.speech_emulator.lifecycle import Status
from local.speech_emulator.store import JobError
from local.speech_emulator.versions import ApiVersion, Urls
from local.speech_emulator.webhook_wire import WebHookLinks, WebHookOut, WebHookPropertiesOut
from local.speech_emulator.wire import EntityError

WEBHOOK_FIELDS: Mapping[str, Kind] = {
    "displayName": Kind.STRING,
    "description": Kind.STRING,
    "status": Kind.STRING,
    "webUrl": Kind.STRING,
    "createdDateTime": Kind.DATETIME,
    "lastActionDateTime": Kind.DATETIME,
}


class EventKind(StrEnum):
    """What a callback announces: the header value, and the events switch that subscribes to it."""

    CHALLENGE = "Challenge"
    PING = "Ping"
    TRANSCRIPTION_CREATION = "TranscriptionCreation"
    TRANSCRIPTION_PROCESSING = "TranscriptionProcessing"
    TRANSCRIPTION_COMPLETION = "TranscriptionCompletion"
    TRANSCRIPTION_DELETION = "TranscriptionDeletion"

    @property
    def switch(self) -> str:
        return self.value[0].lower() + self.value[1:]


TRANSCRIPTION_EVENTS = (
    EventKind.TRANSCRIPTION_CREATION,
    EventKind.TRANSCRIPTION_PROCESSING,
    EventKind.TRANSCRIPTION_COMPLETION,
    EventKind.TRANSCRIPTION_DELETION,
)


def event_for(status: Status) -> EventKind:
    """The event that announces a job entering `status`."""
    if status is Status.NOT_STARTED:
        return EventKind.TRANSCRIPTION_CREATION
    if status is Status.RUNNING:
        return EventKind.TRANSCRIPTION_PROCESSING
    return EventKind.TRANSCRIPTION_COMPLETION


@dataclass
class WebHook:
    id: str
    display_name: str
    web_url: str
    events: set[str]  # JSON names of the switched-on events
    version: ApiVersion
    endpoint: str  # the resource endpoint the hook was registered through
    created: datetime
    last_action: datetime
    secret: str | None = None
    description: str | None = None
    custom_properties: dict[str, str] | None = None
    status: Status = Status.NOT_STARTED
    error: JobError | None = None
    challenge_token: str | None = field(default=None, repr=False)  # the challenge in flight, if any

    @property
    def urls(self) -> Urls:
        return Urls(self.endpoint, self.version)

    @property
    def active(self) -> bool:
        """Only a hook that answered its challenge receives events."""
        return self.status is Status.SUCCEEDED

    def subscribes(self, kind: EventKind) -> bool:
        return kind.switch in self.events


class WebHookStore:
    """Hooks by id; only touched from the server's event loop."""

    def __init__(self) -> None:
        self._hooks: dict[str, WebHook] = {}

    def add(self, hook: WebHook) -> None:
        self._hooks[hook.id] = hook

    def get(self, hook_id: str) -> WebHook | None:
        return self._hooks.get(hook_id.lower())

    def remove(self, hook_id: str) -> WebHook | None:
        return self._hooks.pop(hook_id.lower(), None)

    def oldest_first(self) -> list[WebHook]:
        return sorted(self._hooks.values(), key=lambda hook: (hook.created, hook.id))

    def receiving(self, kind: EventKind) -> Iterator[WebHook]:
        """Active hooks subscribed to `kind`, in registration order."""
        return (hook for hook in self.oldest_first() if hook.active and hook.subscribes(kind))

    def clear(self) -> None:
        self._hooks.clear()


def _api_version(version: ApiVersion) -> str:
    """properties.apiVersion as the service's examples write it: "v3.2", "v2024-11-15", "2025-10-15"."""
    return f"v{version.value}" if version is ApiVersion.V2024_11_15 else version.value


def render_webhook(hook: WebHook, urls: Urls) -> WebHookOut:
    base = f"{urls.base}/webhooks/{hook.id}"
    return WebHookOut(
        self_=urls.with_version(base),
        display_name=hook.display_name,
        description=hook.description,
        custom_properties=hook.custom_properties,
        web_url=hook.web_url,
        events=dict.fromkeys(sorted(hook.events), True),
        properties=WebHookPropertiesOut(
            api_version=_api_version(hook.version),
            error=EntityError(code=hook.error.code, message=hook.error.message) if hook.error else None,
        ),
        links=WebHookLinks(ping=urls.with_version(f"{base}:ping"), test=urls.with_version(f"{base}:test")),
        status=hook.status.value,
        created_date_time=format_timestamp(hook.created),
        last_action_date_time=format_timestamp(hook.last_action),
    )

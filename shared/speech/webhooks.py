"""Web hook entities (same schema in v3.2, 2024-11-15 and 2025-10-15)."""

from datetime import datetime

from pydantic import Field

from shared.speech.transcriptions import Status
from shared.speech.wire import EntityError, OpenEnum, WireModel, id_from_self


class WebHookEvents(WireModel):
    """Which events the hook receives; the harvester cares about the transcription ones."""

    dataset_creation: bool | None = None
    dataset_processing: bool | None = None
    dataset_completion: bool | None = None
    dataset_deletion: bool | None = None
    model_creation: bool | None = None
    model_processing: bool | None = None
    model_completion: bool | None = None
    model_deletion: bool | None = None
    evaluation_creation: bool | None = None
    evaluation_processing: bool | None = None
    evaluation_completion: bool | None = None
    evaluation_deletion: bool | None = None
    transcription_creation: bool | None = None
    transcription_processing: bool | None = None
    transcription_completion: bool | None = None
    transcription_deletion: bool | None = None
    endpoint_creation: bool | None = None
    endpoint_processing: bool | None = None
    endpoint_completion: bool | None = None
    endpoint_deletion: bool | None = None
    ping: bool | None = None
    challenge: bool | None = None


class WebHookProperties(WireModel):
    api_version: str | None = None
    # The HMAC key for X-MicrosoftSpeechServices-Signature; a secret, never logged.
    secret: str | None = None
    error: EntityError | None = None


class WebHookLinks(WireModel):
    ping: str | None = None
    test: str | None = None


class WebHook(WireModel):
    self_url: str | None = Field(default=None, alias="self")
    display_name: str | None = None
    description: str | None = None
    custom_properties: dict[str, str] | None = None
    web_url: str | None = None
    events: WebHookEvents | None = None
    properties: WebHookProperties | None = None
    links: WebHookLinks | None = None
    status: OpenEnum[Status] | None = None
    created_date_time: datetime | None = None
    last_action_date_time: datetime | None = None

    @property
    def id(self) -> str:
        return id_from_self(self.self_url)


class WebHookSecret(WireModel):
    secret: str | None = None


class WebHookDefinition(WireModel):
    """The create body: `displayName`, `webUrl` and `events` are required by the service."""

    display_name: str
    web_url: str
    events: WebHookEvents
    description: str | None = None
    custom_properties: dict[str, str] | None = None
    properties: WebHookSecret | None = None


class WebHookUpdate(WireModel):
    """The PATCH body: only what is set is sent."""

    web_url: str | None = None
    display_name: str | None = None
    description: str | None = None
    custom_properties: dict[str, str] | None = None
    events: WebHookEvents | None = None
    properties: WebHookSecret | None = None

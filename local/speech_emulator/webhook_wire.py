"""Wire formats of the web hook operations (the same schema in v3.2, 2024-11-15 and 2025-10-15).

The secret is write-only: it is accepted in `properties.secret` and never rendered. Events are rendered as the
service's examples show them, listing only the events that are switched on.
"""

from __future__ import annotations

from pydantic import Field

from local.speech_emulator.wire import CustomProperties, EntityError, RequestModel, ResponseModel


class WebHookEvents(RequestModel):
    """The event switches; null (or absent) means off, and in a PATCH a listed null switches an event off."""

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

    def switches(self) -> dict[str, bool]:
        """The events this body mentions, by JSON name, with the state it asks for."""
        return {
            (self.__class__.model_fields[name].alias or name): bool(getattr(self, name))
            for name in self.model_fields_set
        }


class WebHookPropertiesIn(RequestModel):
    secret: str | None = None


class WebHookCreate(RequestModel):
    display_name: str = Field(min_length=1)
    web_url: str
    events: WebHookEvents
    description: str | None = None
    custom_properties: CustomProperties = None
    properties: WebHookPropertiesIn | None = None


class WebHookUpdate(RequestModel):
    """PATCH body (merge-patch: absent = unchanged). A `properties` object replaces the secret: one without a
    non-empty secret removes it, so later callbacks are unsigned (as the service documents)."""

    web_url: str | None = None
    display_name: str | None = Field(default=None, min_length=1)
    description: str | None = None
    custom_properties: CustomProperties = None
    events: WebHookEvents | None = None
    properties: WebHookPropertiesIn | None = None


class WebHookPropertiesOut(ResponseModel):
    api_version: str
    error: EntityError | None = None


class WebHookLinks(ResponseModel):
    ping: str
    test: str


class WebHookOut(ResponseModel):
    self_: str = Field(alias="self")
    display_name: str
    description: str | None = None
    custom_properties: dict[str, str] | None = None
    web_url: str
    events: dict[str, bool]
    properties: WebHookPropertiesOut
    links: WebHookLinks
    status: str
    created_date_time: str
    last_action_date_time: str


class PaginatedWebHooks(ResponseModel):
    values: list[WebHookOut]
    next_link: str | None = Field(default=None, alias="@nextLink")

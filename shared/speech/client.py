"""SpeechClient: the batch-transcription and web-hook operations of one Speech resource, one API version.

`list_*` return lazy pagers (azure.core ItemPaged) that follow the service's `@nextLink`; `get_*` return
models that keep the received JSON as `.wire`; failures raise the typed errors of shared.speech.errors.
"""

from typing import TypeVar, Unpack

from azure.core.paging import ItemPaged

from shared.speech.base import ClientOptions, SpeechEndpointClient
from shared.speech.definitions import TranscriptionDefinition, version_problems
from shared.speech.errors import UnexpectedResponseError
from shared.speech.files import TranscriptionFile
from shared.speech.transcriptions import Transcription
from shared.speech.transport import HttpResponse
from shared.speech.versions import (
    ApiVersion,
    QueryValue,
    api_url,
    normalize_endpoint,
    rebase_next_link,
    sas_query,
    segment,
    submit_path,
)
from shared.speech.webhooks import WebHook, WebHookDefinition, WebHookUpdate
from shared.speech.wire import WireModel

M = TypeVar("M", bound=WireModel)

_DELETED = (200, 204, 404)  # DELETE is idempotent: "successfully deleted or did not exist"


class SpeechClient(SpeechEndpointClient):
    def __init__(
        self,
        endpoint: str,
        *,
        api_version: ApiVersion | str = ApiVersion.V2024_11_15,
        **options: Unpack[ClientOptions],
    ) -> None:
        super().__init__(normalize_endpoint(endpoint), **options)
        self.api_version = ApiVersion(api_version)

    # -- transcriptions ------------------------------------------------------------------------------------

    def list_transcriptions(
        self, *, filter: str | None = None, top: int | None = None, skip: int | None = None
    ) -> ItemPaged[Transcription]:
        """All transcriptions matching the OData-like `filter` (e.g. "status eq 'Succeeded'"), page by page;
        `top` is the page size asked of the service. `by_page(continuation_token=next_link)` resumes."""
        return self._paged(
            self._url("transcriptions", {"filter": filter, "top": top, "skip": skip}), Transcription
        )

    def get_transcription(self, transcription_id: str) -> Transcription:
        """The job asked for. An answer whose `self` names another entity (another id, `..`) is a service
        error: nothing downstream may file a job under an id the caller did not ask about."""
        transcription = self._get(self._url(f"transcriptions/{segment(transcription_id)}"), Transcription)
        try:
            answered = transcription.id
        except ValueError:
            answered = None
        if answered != transcription_id:
            raise UnexpectedResponseError(
                f"asked for transcription {transcription_id}, the answer's 'self' names "
                f"{(answered or '(nothing)')[:80]!r}"
            )
        return transcription

    def submit_transcription(self, definition: TranscriptionDefinition) -> Transcription:
        """Create a job. Never resent after the service may have seen it (see shared.speech.retry)."""
        problems = version_problems(definition, self.api_version)
        if problems:
            raise ValueError("; ".join(problems))
        url = self._url(submit_path(self.api_version))
        response = self._pipeline.call(
            "POST", url, json_body=definition.to_body(), idempotent=False, accept=(200, 201)
        )
        return self._parse(Transcription, response)

    def update_transcription(
        self,
        transcription_id: str,
        *,
        display_name: str | None = None,
        description: str | None = None,
        custom_properties: dict[str, str] | None = None,
    ) -> Transcription:
        body = {
            name: value
            for name, value in (
                ("displayName", display_name),
                ("description", description),
                ("customProperties", custom_properties),
            )
            if value is not None
        }
        if not body:
            raise ValueError("nothing to update: give display_name, description or custom_properties")
        response = self._pipeline.call(
            "PATCH", self._url(f"transcriptions/{segment(transcription_id)}"), json_body=body
        )
        return self._parse(Transcription, response)

    def delete_transcription(self, transcription_id: str) -> None:
        """Delete a job (and, in Microsoft-managed storage, its results); one already gone is fine."""
        self._pipeline.call(
            "DELETE", self._url(f"transcriptions/{segment(transcription_id)}"), accept=_DELETED
        )

    def list_files(
        self, transcription_id: str, *, sas_validity_seconds: int | None = None, filter: str | None = None
    ) -> ItemPaged[TranscriptionFile]:
        """Result files and report.json. `sas_validity_seconds` becomes sasValidityInSeconds (v3.2) or
        sasLifetimeMinutes rounded up (2024+)."""
        query = {**sas_query(self.api_version, sas_validity_seconds), "filter": filter}
        return self._paged(
            self._url(f"transcriptions/{segment(transcription_id)}/files", query), TranscriptionFile
        )

    def get_file(
        self, transcription_id: str, file_id: str, *, sas_validity_seconds: int | None = None
    ) -> TranscriptionFile:
        path = f"transcriptions/{segment(transcription_id)}/files/{segment(file_id)}"
        return self._get(
            self._url(path, sas_query(self.api_version, sas_validity_seconds)), TranscriptionFile
        )

    def list_locales(self) -> list[str]:
        """Locales batch transcription accepts (2024+ answers per operation; this is its `Submit` list)."""
        data = self._pipeline.call("GET", self._url("transcriptions/locales")).data
        if isinstance(data, dict):
            data = data.get("Submit")
        if not isinstance(data, list):
            raise UnexpectedResponseError("locales answer is neither a list nor a {'Submit': [...]} object")
        return [str(locale) for locale in data]

    # -- web hooks -----------------------------------------------------------------------------------------

    def list_webhooks(self) -> ItemPaged[WebHook]:
        return self._paged(self._url("webhooks"), WebHook)

    def create_webhook(self, definition: WebHookDefinition) -> WebHook:
        """Register a hook; it stays inactive until its URL answers the challenge. Not resent when unsure."""
        response = self._pipeline.call(
            "POST", self._url("webhooks"), json_body=definition.to_body(), idempotent=False, accept=(200, 201)
        )
        return self._parse(WebHook, response)

    def get_webhook(self, webhook_id: str) -> WebHook:
        return self._get(self._url(f"webhooks/{segment(webhook_id)}"), WebHook)

    def update_webhook(self, webhook_id: str, update: WebHookUpdate) -> WebHook:
        response = self._pipeline.call(
            "PATCH", self._url(f"webhooks/{segment(webhook_id)}"), json_body=update.to_body()
        )
        return self._parse(WebHook, response)

    def delete_webhook(self, webhook_id: str) -> None:
        self._pipeline.call("DELETE", self._url(f"webhooks/{segment(webhook_id)}"), accept=_DELETED)

    def ping_webhook(self, webhook_id: str) -> None:
        """Ask the service to send a `Ping` event (202). Resending is harmless: at worst a second ping."""
        self._pipeline.call("POST", self._url(f"webhooks/{segment(webhook_id)}:ping"), accept=(200, 202, 204))

    def test_webhook(self, webhook_id: str) -> None:
        """Ask for one event per registered kind (202; 204 when there is no entity to send)."""
        self._pipeline.call("POST", self._url(f"webhooks/{segment(webhook_id)}:test"), accept=(200, 202, 204))

    # -- plumbing ------------------------------------------------------------------------------------------

    def _url(self, path: str, query: dict[str, QueryValue] | None = None) -> str:
        return api_url(self.endpoint, self.api_version, path, query)

    def _parse(self, model: type[M], response: HttpResponse) -> M:
        return self._pipeline.parse(model, response.data)

    def _get(self, url: str, model: type[M]) -> M:
        return self._parse(model, self._pipeline.call("GET", url))

    def _paged(self, first_url: str, model: type[M]) -> ItemPaged[M]:
        def get_next(next_link: str | None) -> HttpResponse:
            url = rebase_next_link(next_link, self.endpoint) if next_link else first_url
            return self._pipeline.call("GET", url)

        def extract_data(response: HttpResponse) -> tuple[str | None, list[M]]:
            page = response.data
            if not isinstance(page, dict):
                raise UnexpectedResponseError(
                    f"expected a page object of {model.__name__}, got {type(page).__name__}"
                )
            items = [self._pipeline.parse(model, item) for item in page.get("values") or []]
            return page.get("@nextLink") or None, items

        return ItemPaged(get_next, extract_data)

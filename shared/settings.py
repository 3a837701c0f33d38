"""Application settings, read once from the environment (app settings in Azure, local.settings.json locally).

Every setting is validated when the app starts, so a typo fails fast with a message that names the setting,
instead of surfacing hours later as a failed harvest. Secrets are held as SecretStr so they never reach a log
line or a repr by accident.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import urlsplit

from croniter import croniter
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from shared.connections import (
    SERVICES,
    ConnectionSettingsError,
    Service,
    StorageConnection,
    is_configured,
    read_connection,
)
from shared.layout import MAX_PREFIX, MAX_PREFIX_SEGMENTS
from shared.transcripts.options import FORMATS, parse_channel_labels, parse_formats

DEFAULT_POLL_SCHEDULE = "0 * * * * *"
DEFAULT_HARVEST_QUEUE = "harvest-requests"
STORAGE = "AzureWebJobsStorage"
REGIONAL_SPEECH_SUFFIX = ".api.cognitive.microsoft.com"
NOTIFY_CONNECTION = "NOTIFY_CONNECTION"
SUPPORTED_API_VERSIONS = ("2024-11-15", "2025-10-15", "v3.2")


class SettingsError(ValueError):
    """A setting is missing or invalid. The message names the setting and says what is wrong."""


class RateScope(StrEnum):
    APP = "app"  # one budget for every instance, shared through AzureWebJobsStorage (shared.rate_budget)
    INSTANCE = "instance"  # each process keeps its own window


class Discovery(StrEnum):
    ALL = "all"
    TRACKED = "tracked"


def _bool(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{name}: expected true or false, got {value!r}")


def validate_schedule(expression: str) -> str:
    """Accept what the Functions host accepts: NCRONTAB with six fields (seconds first) or five."""
    fields = expression.split()
    if len(fields) not in (5, 6):
        raise ValueError(f"expected 5 or 6 NCRONTAB fields, got {len(fields)}")
    if not croniter.is_valid(expression, second_at_beginning=len(fields) == 6):
        raise ValueError(f"not a valid NCRONTAB expression: {expression!r}")
    return expression


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("expected an absolute http(s) URL")
    return value


class Settings(BaseModel):
    """All settings. Field aliases are the app-setting names documented in the README."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    speech_endpoint: str = Field(alias="SPEECH_ENDPOINT")
    speech_key: SecretStr | None = Field(default=None, alias="SPEECH_KEY")
    speech_api_version: str = Field(default="2024-11-15", alias="SPEECH_API_VERSION")
    speech_region: str | None = Field(default=None, alias="SPEECH_REGION")
    storage: StorageConnection = Field(alias=STORAGE)
    azure_client_id: str | None = Field(default=None, alias="AZURE_CLIENT_ID")

    destination_container_url: SecretStr | None = Field(default=None, alias="DESTINATION_CONTAINER_URL")
    destination_connection: SecretStr | None = Field(default=None, alias="DESTINATION_CONNECTION")
    destination_container: str | None = Field(default=None, alias="DESTINATION_CONTAINER")
    destination_prefix: str = Field(default="", alias="DESTINATION_PREFIX")

    poll_schedule: str = Field(default=DEFAULT_POLL_SCHEDULE, alias="POLL_SCHEDULE")
    harvest_queue: str = Field(default=DEFAULT_HARVEST_QUEUE, alias="HARVEST_QUEUE")
    ledger_table: str = Field(default="harvestledger", alias="LEDGER_TABLE")
    discovery: Discovery = Field(default=Discovery.ALL, alias="DISCOVERY")
    discover_since: datetime | None = Field(default=None, alias="DISCOVER_SINCE")
    delete_after_harvest: bool = Field(default=False, alias="DELETE_AFTER_HARVEST")

    output_formats: frozenset[str] = Field(default=frozenset(FORMATS), alias="OUTPUT_FORMATS")
    channel_labels: dict[int, str] = Field(default_factory=dict, alias="CHANNEL_LABELS")

    poll_overlap_seconds: Annotated[int, Field(ge=0, le=3600)] = Field(
        default=5, alias="POLL_OVERLAP_SECONDS"
    )
    reconcile_interval_minutes: Annotated[int, Field(ge=1)] = Field(
        default=60, alias="RECONCILE_INTERVAL_MINUTES"
    )
    full_reconcile_hours: Annotated[int, Field(ge=1, le=31 * 24)] = Field(
        default=24, alias="FULL_RECONCILE_HOURS"
    )
    pending_warning_minutes: Annotated[int, Field(ge=1)] = Field(default=120, alias="PENDING_WARNING_MINUTES")
    ttl_warning_hours: Annotated[int, Field(ge=0)] = Field(default=6, alias="TTL_WARNING_HOURS")
    requeue_after_minutes: Annotated[int, Field(ge=1)] = Field(default=30, alias="REQUEUE_AFTER_MINUTES")
    harvest_time_budget_seconds: Annotated[int, Field(ge=10)] = Field(
        default=240, alias="HARVEST_TIME_BUDGET_SECONDS"
    )
    sas_validity_minutes: Annotated[int, Field(ge=5, le=24 * 60)] = Field(
        default=120, alias="SAS_VALIDITY_MINUTES"
    )
    max_dequeue_count: Annotated[int, Field(ge=1)] = Field(default=5, alias="HARVEST_MAX_ATTEMPTS")
    harvest_file_concurrency: Annotated[int, Field(ge=1, le=32)] = Field(
        default=8, alias="HARVEST_FILE_CONCURRENCY"
    )
    speech_rate_limit: Annotated[int, Field(ge=1)] = Field(default=100, alias="SPEECH_RATE_LIMIT")
    speech_rate_scope: RateScope = Field(default=RateScope.APP, alias="SPEECH_RATE_SCOPE")

    webhook_secret: SecretStr | None = Field(default=None, alias="WEBHOOK_SECRET")
    conversation_endpoint: str | None = Field(default=None, alias="CONVERSATION_ENDPOINT")
    conversation_polls_per_tick: Annotated[int, Field(ge=0, le=100)] = Field(
        default=20, alias="CONVERSATION_POLLS_PER_TICK"
    )

    notify_queue: str | None = Field(default=None, alias="NOTIFY_QUEUE")
    notify_connection: StorageConnection | None = Field(default=None, alias=NOTIFY_CONNECTION)
    notify_eventgrid_endpoint: str | None = Field(default=None, alias="NOTIFY_EVENTGRID_ENDPOINT")

    @field_validator("storage", mode="before")
    @classmethod
    def _storage(cls, value: Any) -> Any:
        """A connection string, or the raw `AzureWebJobsStorage*` settings read as the Functions host does."""
        return _connection(STORAGE, value)

    @field_validator("notify_connection", mode="before")
    @classmethod
    def _notify_connection(cls, value: Any) -> Any:
        """The notify queue's own account, in any form AzureWebJobsStorage takes; it needs only queues."""
        if isinstance(value, Mapping) and not is_configured(NOTIFY_CONNECTION, value):
            return None
        return _connection(NOTIFY_CONNECTION, value, needs=("queue",))

    @field_validator("speech_endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        return _http_url(value).rstrip("/")

    @field_validator("conversation_endpoint")
    @classmethod
    def _conversation_endpoint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        url = _http_url(value)
        return url if url.endswith("/") else url + "/"

    @field_validator("speech_api_version")
    @classmethod
    def _api_version(cls, value: str) -> str:
        if value not in SUPPORTED_API_VERSIONS:
            raise ValueError(f"expected one of {', '.join(SUPPORTED_API_VERSIONS)}")
        return value

    @field_validator("poll_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return validate_schedule(value)

    @field_validator("destination_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return ""
        segments = value.strip("/").split("/")
        if value.startswith("/") or any(s in ("", ".", "..") for s in segments):
            raise ValueError("must be a relative blob path without empty, '.' or '..' segments")
        if any(ord(c) < 32 or c == "\\" for c in value):
            raise ValueError("must not contain control characters or backslashes")
        if len(value) > MAX_PREFIX or len(segments) > MAX_PREFIX_SEGMENTS:
            raise ValueError(f"must be at most {MAX_PREFIX} characters and {MAX_PREFIX_SEGMENTS} segments")
        return "/".join(segments) + "/"

    @field_validator("notify_eventgrid_endpoint")
    @classmethod
    def _eventgrid_endpoint(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)

    @field_validator("harvest_queue", "notify_queue")
    @classmethod
    def _queue_name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not (3 <= len(value) <= 63) or not all(c.islower() or c.isdigit() or c == "-" for c in value):
            raise ValueError("queue names are 3-63 lowercase letters, digits and hyphens")
        if value.startswith("-") or value.endswith("-") or "--" in value:
            raise ValueError("queue names cannot start or end with '-' or contain '--'")
        return value

    @field_validator("discover_since", mode="before")
    @classmethod
    def _since(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip() == "":
            return None
        return value

    @field_validator("discover_since")
    @classmethod
    def _since_utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    @field_validator("output_formats", mode="before")
    @classmethod
    def _formats(cls, value: Any) -> Any:
        return parse_formats(value) if isinstance(value, str) else value

    @field_validator("channel_labels", mode="before")
    @classmethod
    def _labels(cls, value: Any) -> Any:
        return parse_channel_labels(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _entra_needs_a_custom_subdomain(self) -> Settings:
        """Without SPEECH_KEY the app sends Entra tokens, which a regional endpoint refuses (401): say so now."""
        host = (urlsplit(self.speech_endpoint).hostname or "").lower()
        if self.speech_key is None and host.endswith(REGIONAL_SPEECH_SUFFIX):
            raise ValueError(
                "SPEECH_ENDPOINT: without SPEECH_KEY the app signs in with its managed identity (Entra ID), which "
                "needs the resource's custom-subdomain endpoint, https://<name>.cognitiveservices.azure.com, not a "
                "regional one; set SPEECH_ENDPOINT to it (and SPEECH_REGION for conversations), or set SPEECH_KEY"
            )
        return self

    @model_validator(mode="after")
    def _destination(self) -> Settings:
        has_url = self.destination_container_url is not None
        has_conn = self.destination_connection is not None or self.destination_container is not None
        if has_url == has_conn:
            raise ValueError(
                "DESTINATION: set either DESTINATION_CONTAINER_URL, or DESTINATION_CONNECTION together with "
                "DESTINATION_CONTAINER (exactly one of the two)"
            )
        if has_conn and not (self.destination_connection and self.destination_container):
            raise ValueError("DESTINATION: DESTINATION_CONNECTION and DESTINATION_CONTAINER go together")
        if self.notify_connection is not None and self.notify_queue is None:
            raise ValueError("NOTIFY_CONNECTION: set NOTIFY_QUEUE too (the queue it holds)")
        if has_url:
            _http_url(self.destination_container_url.get_secret_value())  # type: ignore[union-attr]
        return self

    @property
    def notify_enabled(self) -> bool:
        """Whether harvested jobs owe a transcript-ready event (some target is configured)."""
        return self.notify_queue is not None or self.notify_eventgrid_endpoint is not None

    @property
    def identity_client_id(self) -> str | None:
        """The user-assigned identity for Speech, the destination and result files: AZURE_CLIENT_ID, else the
        one the storage connection uses (a Flex app usually has a single user-assigned identity)."""
        return self.azure_client_id or self.storage.client_id

    @property
    def sas_validity_seconds(self) -> int:
        return self.sas_validity_minutes * 60

    @property
    def conversation_service_endpoint(self) -> str | None:
        """Where conversation transcriptions are fetched: CONVERSATION_ENDPOINT, else the public endpoint of
        the region named by SPEECH_ENDPOINT (or SPEECH_REGION); None means conversation features are off."""
        if self.conversation_endpoint is not None:
            return self.conversation_endpoint
        # Imported here, not at the top: validating the settings at start-up must not load the HTTP stack.
        from shared.speech.conversation import conversation_endpoint, region_from_endpoint  # noqa: PLC0415

        region = region_from_endpoint(self.speech_endpoint) or (self.speech_region or "").strip().lower()
        return conversation_endpoint(region) if region else None


def _connection(name: str, value: Any, needs: tuple[Service, ...] = SERVICES) -> Any:
    """Connection `name` from a connection string, or from all the app settings (`<name>`, `<name>__*`)."""
    if isinstance(value, str):
        return StorageConnection.from_string(value, name)
    if isinstance(value, Mapping):
        try:
            return read_connection(name, value, needs)
        except ConnectionSettingsError as error:
            raise ValueError(str(error)) from None
    return value


def _friendly(error: ValidationError) -> str:
    """Turn pydantic's report into one line per setting, named by its app-setting name."""
    lines = []
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]) or "settings"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            message = "is required but not set"
        lines.append(f"{name}: {message}")
    return "invalid settings: " + "; ".join(lines)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting; raise SettingsError naming each bad one."""
    source = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    for field in Settings.model_fields.values():
        alias = field.alias or ""
        if alias in source and source[alias] != "":
            values[alias] = source[alias]
    # Connections are read from all their settings (`AzureWebJobsStorage`, `AzureWebJobsStorage__*`, ...).
    values[STORAGE] = source
    values[NOTIFY_CONNECTION] = source
    for flag in ("DELETE_AFTER_HARVEST",):
        if flag in values:
            values[flag] = _bool(values[flag], flag)
    try:
        return Settings.model_validate(values)
    except ValidationError as error:
        raise SettingsError(_friendly(error)) from None


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process-wide settings, validated once (fail fast at start-up)."""
    return load_settings()


def setting(name: str, default: str) -> str:
    """A raw setting for trigger declarations (queue name, schedule), which are read before validation."""
    value = os.environ.get(name, "")
    return value if value else default

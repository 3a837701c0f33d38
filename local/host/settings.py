"""The configuration the Functions host reads: local.settings.json, host.json and app settings.

App settings live in the process environment, exactly as in Azure, so function code reads them with
os.environ. local.settings.json only fills the gaps: a real environment variable always wins, which is what
Core Tools does and what lets tests and CI override a developer's file.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

DEFAULT_PORT = 7071
DEFAULT_FUNCTION_TIMEOUT = timedelta(minutes=5)
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$")
_SETTING_REFERENCE = re.compile(r"%([^%]+)%")
_TRUE = {"true", "1"}
M = TypeVar("M", bound="BaseModel")


class SettingsError(ValueError):
    """A configuration file or app setting is missing or malformed."""


def parse_timespan(value: object) -> object:
    """Parse a .NET TimeSpan string ("hh:mm:ss", "hh:mm:ss.fff" or "d.hh:mm:ss") as host.json writes them.

    Non-strings pass through so pydantic reports them; "-1" (no limit) is handled by the caller.
    """
    if not isinstance(value, str):
        return value
    match = _TIMESPAN.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a TimeSpan like 'hh:mm:ss'")
    days, hours, minutes, seconds, fraction = match.groups()
    return timedelta(
        days=int(days or 0),
        hours=int(hours),
        minutes=int(minutes),
        seconds=int(seconds),
        microseconds=int((fraction or "0").ljust(7, "0")[:6]),
    )


TimeSpan = Annotated[timedelta, BeforeValidator(parse_timespan)]


def format_timespan(value: timedelta) -> str:
    """Render a duration the way the host prints TimeSpans in its log lines (hh:mm:ss)."""
    total = int(value.total_seconds())
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


class _HostJsonModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class QueuesOptions(_HostJsonModel):
    """host.json `extensions.queues`, with the defaults the host uses when running locally."""

    max_polling_interval: TimeSpan = timedelta(seconds=2)
    visibility_timeout: TimeSpan = timedelta(0)
    batch_size: int = Field(default=16, ge=1, le=32)
    new_batch_threshold: int | None = Field(default=None, ge=0)
    max_dequeue_count: int = Field(default=5, ge=1)
    message_encoding: Literal["base64", "none"] = "base64"

    @field_validator("message_encoding", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("max_polling_interval")
    @classmethod
    def _at_least_100ms(cls, value: timedelta) -> timedelta:
        if value < timedelta(milliseconds=100):
            raise ValueError("maxPollingInterval must be at least 00:00:00.100")
        return value

    @property
    def threshold(self) -> int:
        """newBatchThreshold, defaulting to half the batch size as on one Consumption instance."""
        return self.batch_size // 2 if self.new_batch_threshold is None else self.new_batch_threshold


class HttpOptions(_HostJsonModel):
    """host.json `extensions.http`."""

    route_prefix: str = "api"


class Extensions(_HostJsonModel):
    queues: QueuesOptions = QueuesOptions()
    http: HttpOptions = HttpOptions()


class HostJson(_HostJsonModel):
    """The parts of host.json the local host honours."""

    function_timeout: str | None = None
    extensions: Extensions = Extensions()

    @property
    def timeout(self) -> timedelta | None:
        """functionTimeout; None means unbounded ("-1"), absent means the Consumption default of 5 minutes."""
        if self.function_timeout is None:
            return DEFAULT_FUNCTION_TIMEOUT
        if self.function_timeout.strip() == "-1":
            return None
        parsed = parse_timespan(self.function_timeout)
        assert isinstance(parsed, timedelta)
        return parsed


class LocalSettingsHost(BaseModel):
    model_config = ConfigDict(extra="allow")

    LocalHttpPort: int | None = None


class LocalSettings(BaseModel):
    """local.settings.json: app settings for local runs only (never deployed)."""

    model_config = ConfigDict(extra="allow")

    IsEncrypted: bool = False
    Values: dict[str, str] = {}
    Host: LocalSettingsHost = LocalSettingsHost()

    @field_validator("IsEncrypted")
    @classmethod
    def _not_encrypted(cls, value: bool) -> bool:
        if value:
            raise ValueError("encrypted local.settings.json is not supported; decrypt it with Core Tools")
        return value


def _load_model(model: type[M], path: Path) -> M:
    try:
        return model.model_validate(json.loads(path.read_text(encoding="utf-8-sig")))
    except (OSError, json.JSONDecodeError, ValidationError) as error:
        raise SettingsError(f"{path}: {error}") from error


def load_local_settings(app_dir: Path, explicit: Path | None) -> LocalSettings:
    """Read `--settings PATH` (must exist) or `<app-dir>/local.settings.json` (optional, like Core Tools)."""
    if explicit is not None:
        if not explicit.is_file():
            raise SettingsError(f"settings file not found: {explicit}")
        return _load_model(LocalSettings, explicit)
    default = app_dir / "local.settings.json"
    return _load_model(LocalSettings, default) if default.is_file() else LocalSettings()


def load_host_json(app_dir: Path) -> HostJson:
    path = app_dir / "host.json"
    return _load_model(HostJson, path) if path.is_file() else HostJson()


def settings_to_apply(values: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    """The local.settings.json values that go into the environment: those not already set there."""
    return {name: value for name, value in values.items() if name not in environ}


def resolve_port(cli_port: int | None, local: LocalSettings) -> int:
    """--port wins over Host.LocalHttpPort, which wins over the Core Tools default 7071."""
    if cli_port is not None:
        return cli_port
    return local.Host.LocalHttpPort if local.Host.LocalHttpPort is not None else DEFAULT_PORT


def resolve_references(text: str, settings: Mapping[str, str]) -> str:
    """Replace each `%SettingName%` in a binding property with that app setting, as the host does."""

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in settings:
            raise SettingsError(f"app setting '{name}' (referenced as %{name}%) is not set")
        return settings[name]

    return _SETTING_REFERENCE.sub(lookup, text)


def is_disabled(function_name: str, settings: Mapping[str, str]) -> bool:
    """`AzureWebJobs.<name>.Disabled` = true/1 disables a function (Linux spells the dots as underscores)."""
    for key in (f"AzureWebJobs.{function_name}.Disabled", f"AzureWebJobs_{function_name}_Disabled"):
        if settings.get(key, "").strip().lower() in _TRUE:
            return True
    return False


def host_id(settings: Mapping[str, str], app_dir: Path) -> str:
    """The host id that scopes timer status blobs: configured, else machine name plus a hash of the app path.

    Mirrors how the host derives a local id, so two apps on one machine keep separate schedule status.
    """
    configured = settings.get("AzureFunctionsWebHost__hostid", "").strip()
    if configured:
        return configured
    machine = re.sub(r"[^a-z0-9]+", "-", socket.gethostname().lower()).strip("-")[:23] or "localhost"
    digest = hashlib.sha256(str(app_dir.resolve()).encode()).hexdigest()[:8]
    return f"{machine}-{digest}"


def thread_count(settings: Mapping[str, str], cpu_count: int) -> int:
    """PYTHON_THREADPOOL_THREAD_COUNT, else the Python worker's default pool size min(32, cpus + 4)."""
    configured = settings.get("PYTHON_THREADPOOL_THREAD_COUNT", "").strip()
    if configured:
        try:
            count = int(configured)
        except ValueError as error:
            raise SettingsError(
                f"PYTHON_THREADPOOL_THREAD_COUNT must be an integer, got {configured!r}"
            ) from error
        if count < 1:
            raise SettingsError("PYTHON_THREADPOOL_THREAD_COUNT must be at least 1")
        return count
    return min(32, cpu_count + 4)

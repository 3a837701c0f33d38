"""Storage connections read from app settings exactly as the Functions host reads them, and their clients.

A connection name (e.g. `AzureWebJobsStorage`) means either a connection string in `AzureWebJobs<name>` or
`<name>`, or an identity-based connection: `<name>__accountName`, or `<name>__blobServiceUri` /
`__queueServiceUri` / `__tableServiceUri`, with `<name>__credential=managedidentity` and `<name>__clientId` for a
user-assigned identity. Current Flex Consumption templates set only the identity form, with shared-key access
off on the account, so every storage client of the app and of the local host is made here, from one parsing.

A connection that is missing or half-given fails with a message naming what to set, so the app refuses to
start instead of failing on its first queue message. Reading settings loads no SDK (cold start): each client
method imports its SDK when it is first called.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.data.tables import TableServiceClient
    from azure.storage.blob import BlobServiceClient, ContainerClient
    from azure.storage.queue import QueueClient, QueueServiceClient

Service = Literal["blob", "queue", "table"]
SERVICES: tuple[Service, ...] = ("blob", "queue", "table")
MANAGED_IDENTITY = "managedidentity"


class ConnectionSettingsError(ValueError):
    """A storage connection is missing or half-given; the message names the settings to set."""


class StorageConnection(BaseModel):
    """One storage account connection: a connection string, or service URIs reached with an Entra identity."""

    model_config = ConfigDict(frozen=True)

    name: str
    connection_string: SecretStr | None = None
    service_uris: dict[str, str] = {}
    managed_identity: bool = False
    client_id: str | None = None

    @classmethod
    def from_string(cls, connection_string: str, name: str = "AzureWebJobsStorage") -> StorageConnection:
        return cls(name=name, connection_string=SecretStr(connection_string))

    @property
    def uses_identity(self) -> bool:
        return self.connection_string is None

    def secrets(self) -> list[str]:
        return [self.connection_string.get_secret_value()] if self.connection_string else []

    def credential(self) -> TokenCredential | None:
        """The identity's credential (shared per process, so tokens are cached once); None for a key."""
        if not self.uses_identity:
            return None
        return identity_credential(self.client_id, managed_only=self.managed_identity)

    def _uri(self, service: Service) -> str:
        uri = self.service_uris.get(service)
        if uri is None:
            raise ConnectionSettingsError(_incomplete(self.name, [service]))
        return uri

    def blob_service(self, **options: Any) -> BlobServiceClient:
        from azure.storage.blob import BlobServiceClient  # noqa: PLC0415 - see the module docstring

        if self.connection_string is not None:
            return BlobServiceClient.from_connection_string(
                self.connection_string.get_secret_value(), **options
            )
        return BlobServiceClient(self._uri("blob"), credential=self.credential(), **options)

    def container(self, name: str, **options: Any) -> ContainerClient:
        from azure.storage.blob import ContainerClient  # noqa: PLC0415

        if self.connection_string is not None:
            secret = self.connection_string.get_secret_value()
            return ContainerClient.from_connection_string(secret, name, **options)
        return ContainerClient(self._uri("blob"), name, credential=self.credential(), **options)

    def queue_service(self, **options: Any) -> QueueServiceClient:
        from azure.storage.queue import QueueServiceClient  # noqa: PLC0415

        if self.connection_string is not None:
            secret = self.connection_string.get_secret_value()
            return QueueServiceClient.from_connection_string(secret, **options)
        return QueueServiceClient(self._uri("queue"), credential=self.credential(), **options)

    def queue(self, name: str, **options: Any) -> QueueClient:
        from azure.storage.queue import QueueClient  # noqa: PLC0415

        if self.connection_string is not None:
            return QueueClient.from_connection_string(
                self.connection_string.get_secret_value(), name, **options
            )
        return QueueClient(self._uri("queue"), name, credential=self.credential(), **options)

    def table_service(self, **options: Any) -> TableServiceClient:
        from azure.data.tables import TableServiceClient  # noqa: PLC0415

        if self.connection_string is not None:
            secret = self.connection_string.get_secret_value()
            return TableServiceClient.from_connection_string(secret, **options)
        return TableServiceClient(self._uri("table"), credential=self.credential(), **options)


@lru_cache(maxsize=8)
def identity_credential(client_id: str | None, *, managed_only: bool = False) -> TokenCredential:
    """Managed identity (user-assigned when `client_id` is given); with `managed_only` False, also the other
    sources of DefaultAzureCredential, so a developer's `az login` works locally as it does for the host."""
    from azure.identity import DefaultAzureCredential, ManagedIdentityCredential  # noqa: PLC0415

    if managed_only:
        return ManagedIdentityCredential(client_id=client_id)
    return DefaultAzureCredential(managed_identity_client_id=client_id)


def _incomplete(name: str, services: Iterable[str]) -> str:
    missing = ", ".join(f"{name}__{service}ServiceUri" for service in services)
    return f"connection '{name}' is identity-based but incomplete: set {missing} (or {name}__accountName)"


def _https(setting: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc:
        raise ConnectionSettingsError(f"{setting}: expected an https URL (tokens are sent only over HTTPS)")
    return value.rstrip("/")


def _given(settings: Mapping[str, str]) -> dict[str, str]:
    """The settings that hold a value, by lower-case name (the host compares names without regard to case)."""
    return {key.lower(): value.strip() for key, value in settings.items() if value and value.strip()}


def is_configured(name: str, settings: Mapping[str, str]) -> bool:
    """Whether any setting of connection `name` is given (for a connection the app may go without)."""
    lowered = _given(settings)
    prefix = f"{name}__".lower()
    return any(
        key in (name.lower(), f"azurewebjobs{name}".lower()) or key.startswith(prefix) for key in lowered
    )


def read_connection(
    name: str, settings: Mapping[str, str], needs: Iterable[Service] = SERVICES
) -> StorageConnection:
    """The connection `name` from app settings, checked to reach every service in `needs`.

    Like the host: `AzureWebJobs<name>`, then `<name>`, may hold a connection string; otherwise the
    `<name>__*` settings describe an identity-based connection (names compared without regard to case, as in
    the host's configuration).
    """
    lowered = _given(settings)

    def get(setting: str) -> str | None:
        return lowered.get(setting.lower())

    prefix = f"{name}__".lower()
    parts = sorted(key for key in lowered if key.startswith(prefix))
    connection_string = get(f"AzureWebJobs{name}") or get(name)
    if connection_string is not None:
        if parts:
            raise ConnectionSettingsError(
                f"connection '{name}' is given twice: '{name}' holds a connection string and "
                f"{name}__* settings describe an identity; keep one of the two"
            )
        return StorageConnection.from_string(connection_string, name)
    if not parts:
        raise ConnectionSettingsError(
            f"connection '{name}' is not configured: set '{name}' to a storage connection string, or for an "
            f"identity-based connection '{name}__accountName' (or '{name}__blobServiceUri', "
            f"'{name}__queueServiceUri' and '{name}__tableServiceUri') with '{name}__credential=managedidentity' "
            f"and, for a user-assigned identity, '{name}__clientId'"
        )
    if get(f"{name}__clientSecret") or get(f"{name}__certificate"):
        raise ConnectionSettingsError(
            f"connection '{name}': client secrets and certificates are not supported; use a managed identity "
            f"({name}__credential=managedidentity)"
        )
    credential = get(f"{name}__credential")
    if credential is not None and credential.lower() != MANAGED_IDENTITY:
        raise ConnectionSettingsError(
            f"{name}__credential: expected '{MANAGED_IDENTITY}', got {credential!r}"
        )
    account = get(f"{name}__accountName")
    uris: dict[str, str] = {}
    for service in SERVICES:
        setting = f"{name}__{service}ServiceUri"
        explicit = get(setting)
        if explicit is not None:
            uris[service] = _https(setting, explicit)
        elif account is not None:
            uris[service] = f"https://{account}.{service}.core.windows.net"
    missing = [service for service in needs if service not in uris]
    if missing:
        raise ConnectionSettingsError(_incomplete(name, missing))
    return StorageConnection(
        name=name,
        service_uris=uris,
        managed_identity=credential is not None,
        client_id=get(f"{name}__clientId"),
    )

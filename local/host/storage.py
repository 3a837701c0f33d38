"""Storage clients for a binding's `connection`, resolved from app settings the way the host does.

`connection` names an app setting (default AzureWebJobsStorage) holding a connection string; identity-based
connections use `<name>__queueServiceUri` / `<name>__blobServiceUri` (or `<name>__accountName`) with
DefaultAzureCredential, as in Azure.
"""

from __future__ import annotations

from collections.abc import Mapping

from azure.identity import DefaultAzureCredential
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

from local.host.settings import SettingsError

DEFAULT_CONNECTION = "AzureWebJobsStorage"


def _service_uri(name: str, service: str, settings: Mapping[str, str]) -> str | None:
    explicit = settings.get(f"{name}__{service}ServiceUri", "").strip()
    if explicit:
        return explicit
    account = settings.get(f"{name}__accountName", "").strip()
    return f"https://{account}.{service}.core.windows.net" if account else None


def resolve_connection(name: str, service: str, settings: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(connection string, service URI): exactly one is set; fails naming the setting when neither is.

    Like the host, `AzureWebJobs<name>` is tried before `<name>` itself.
    """
    for candidate in (f"AzureWebJobs{name}", name):
        connection_string = settings.get(candidate, "").strip()
        if connection_string:
            return connection_string, None
    uri = _service_uri(name, service, settings)
    if uri is None:
        raise SettingsError(
            f"connection '{name}' is not configured: set app setting '{name}' to a storage connection string "
            f"(e.g. Azurite's, or run with --azurite) or '{name}__{service}ServiceUri' for an identity"
        )
    return None, uri


def queue_service(name: str, settings: Mapping[str, str]) -> QueueServiceClient:
    connection_string, uri = resolve_connection(name, "queue", settings)
    if connection_string is not None:
        return QueueServiceClient.from_connection_string(connection_string)
    return QueueServiceClient(str(uri), credential=DefaultAzureCredential())


def blob_service(name: str, settings: Mapping[str, str]) -> BlobServiceClient:
    connection_string, uri = resolve_connection(name, "blob", settings)
    if connection_string is not None:
        return BlobServiceClient.from_connection_string(connection_string)
    return BlobServiceClient(str(uri), credential=DefaultAzureCredential())

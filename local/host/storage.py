"""Storage clients for a binding's `connection`, resolved from app settings the way the host does.

`connection` names an app setting (default AzureWebJobsStorage): a connection string, or an identity-based
connection (`<name>__accountName`, `<name>__queueServiceUri`, ...). The parsing is the app's own
(shared.connections), so the local host and the app can never read a connection differently.
"""

from __future__ import annotations

from collections.abc import Mapping

from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

from local.host.settings import SettingsError
from shared.connections import ConnectionSettingsError, Service, StorageConnection, read_connection

DEFAULT_CONNECTION = "AzureWebJobsStorage"


def resolve_connection(name: str, service: Service, settings: Mapping[str, str]) -> StorageConnection:
    """The connection `name`, able to reach `service`; SettingsError naming what to set when it is not."""
    try:
        return read_connection(name, settings, needs=(service,))
    except ConnectionSettingsError as error:
        raise SettingsError(str(error)) from None


def queue_service(name: str, settings: Mapping[str, str]) -> QueueServiceClient:
    return resolve_connection(name, "queue", settings).queue_service()


def blob_service(name: str, settings: Mapping[str, str]) -> BlobServiceClient:
    return resolve_connection(name, "blob", settings).blob_service()

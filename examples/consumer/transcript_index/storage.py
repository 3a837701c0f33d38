"""The consumer's storage: the harvester's destination container (read) and the index table (written).

A connection is a setting holding a connection string, or, for an identity, `<name>__blobServiceUri` /
`<name>__tableServiceUri` with `<name>__credential=managedidentity` and `<name>__clientId` (the Functions host's
convention, which its triggers on the same connection follow): the managed identity `__clientId` names (a Flex
app usually has only a user-assigned one), or without `__credential` DefaultAzureCredential, e.g. a developer's
sign-in.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableClient, TableServiceClient, UpdateMode
from azure.identity import DefaultAzureCredential, ManagedIdentityCredential
from azure.storage.blob import BlobServiceClient, ContainerClient


def _connection_string(name: str) -> str | None:
    return os.environ.get(name) or os.environ.get(f"AzureWebJobs{name}") or None


def _credential(connection: str) -> TokenCredential:
    """The identity of an identity-based connection, chosen as the host chooses it."""
    client_id = os.environ.get(f"{connection}__clientId") or None
    if os.environ.get(f"{connection}__credential", "").lower() == "managedidentity":
        return ManagedIdentityCredential(client_id=client_id)
    return DefaultAzureCredential(managed_identity_client_id=client_id)


def container_client(connection: str, container: str) -> ContainerClient:
    text = _connection_string(connection)
    if text is not None:
        service = BlobServiceClient.from_connection_string(text)
    else:
        service = BlobServiceClient(os.environ[f"{connection}__blobServiceUri"], _credential(connection))
    return service.get_container_client(container)


def table_client(connection: str, table: str) -> TableClient:
    text = _connection_string(connection)
    if text is not None:
        service = TableServiceClient.from_connection_string(text)
    else:
        service = TableServiceClient(
            os.environ[f"{connection}__tableServiceUri"], credential=_credential(connection)
        )
    with contextlib.suppress(ResourceExistsError):
        service.create_table(table)
    return service.get_table_client(table)


class ContainerBlobs:
    def __init__(self, container: ContainerClient) -> None:
        self._container = container

    def read(self, path: str) -> bytes | None:
        try:
            return self._container.download_blob(path).readall()
        except ResourceNotFoundError:
            return None

    def url(self, path: str) -> str:
        return self._container.get_blob_client(path).url.split("?", 1)[0]


class TableRows:
    def __init__(self, table: TableClient) -> None:
        self._table = table

    def get(self, kind: str, job_id: str) -> dict[str, Any] | None:
        try:
            return dict(self._table.get_entity(kind, job_id))
        except ResourceNotFoundError:
            return None

    def upsert(self, row: dict[str, Any]) -> None:
        self._table.upsert_entity(row, mode=UpdateMode.MERGE)

    def search(self, text: str) -> list[dict[str, Any]]:
        """Rows whose display name, speakers or first words contain `text` (case-insensitive)."""
        needle = text.casefold()
        fields = ("displayName", "speakers", "firstWords", "RowKey")
        return [
            dict(row)
            for row in self._table.list_entities()
            if any(needle in str(row.get(f, "")).casefold() for f in fields)
        ]

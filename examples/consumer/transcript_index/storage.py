"""The consumer's storage: the harvester's destination container (read) and the index table (written).

A connection is a setting holding a connection string, or, for managed identity, `<name>__blobServiceUri` /
`<name>__tableServiceUri` (the Functions host's convention), read with DefaultAzureCredential.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableClient, TableServiceClient, UpdateMode
from azure.identity import DefaultAzureCredential
from azure.storage.blob import BlobServiceClient, ContainerClient


def _connection_string(name: str) -> str | None:
    return os.environ.get(name) or os.environ.get(f"AzureWebJobs{name}") or None


def container_client(connection: str, container: str) -> ContainerClient:
    text = _connection_string(connection)
    if text is not None:
        service = BlobServiceClient.from_connection_string(text)
    else:
        service = BlobServiceClient(os.environ[f"{connection}__blobServiceUri"], DefaultAzureCredential())
    return service.get_container_client(container)


def table_client(connection: str, table: str) -> TableClient:
    text = _connection_string(connection)
    if text is not None:
        service = TableServiceClient.from_connection_string(text)
    else:
        service = TableServiceClient(
            os.environ[f"{connection}__tableServiceUri"], credential=DefaultAzureCredential()
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
        self._table.upsert_entity(row, mode=UpdateMode.REPLACE)

    def search(self, text: str) -> list[dict[str, Any]]:
        """Rows whose display name, speakers or first words contain `text` (case-insensitive)."""
        needle = text.casefold()
        fields = ("displayName", "speakers", "firstWords", "RowKey")
        return [
            dict(row)
            for row in self._table.list_entities()
            if any(needle in str(row.get(f, "")).casefold() for f in fields)
        ]

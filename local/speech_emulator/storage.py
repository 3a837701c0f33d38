"""Blob storage adapter (Azurite): where result files are written and how their URLs are handed out.

Managed results live in the emulator's own container (the stand-in for Microsoft-managed storage) and are
shared with read-only blob SAS URLs that Azurite really enforces; results for a destinationContainerUrl are
written with the caller's container SAS and returned as plain URLs, as the service does. All calls block, so
the server runs them in its thread pool.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import (
    BlobBlock,
    BlobClient,
    BlobSasPermissions,
    BlobServiceClient,
    ContainerClient,
    generate_blob_sas,
)

BLOCK_BYTES = 4 * 1024 * 1024
# SAS start is backdated like the service's, so small clock differences never make a fresh URL invalid.
SAS_BACKDATE = timedelta(minutes=5)


@dataclass(frozen=True)
class BlobLocation:
    """A result blob: in the managed container when `container_url` is None, else in the caller's container."""

    name: str
    container_url: str | None = None


def _plain(url: str) -> str:
    return urlsplit(url)._replace(query="", fragment="").geturl()


def upload_chunks(blob: BlobClient, chunks: Iterable[bytes]) -> int:
    """Upload a stream of chunks holding at most one block in memory; returns the blob's size in bytes.

    Small files go up in one request; larger ones as staged 4 MiB blocks committed at the end.
    """
    buffer = bytearray()
    block_ids: list[str] = []
    size = 0

    def stage(data: bytes) -> None:
        block_id = base64.b64encode(f"{len(block_ids):08d}".encode()).decode()
        blob.stage_block(block_id, data, length=len(data))
        block_ids.append(block_id)

    for chunk in chunks:
        size += len(chunk)
        buffer += chunk
        while len(buffer) >= BLOCK_BYTES:
            stage(bytes(buffer[:BLOCK_BYTES]))
            del buffer[:BLOCK_BYTES]
    if not block_ids:
        blob.upload_blob(bytes(buffer), overwrite=True)
        return size
    if buffer:
        stage(bytes(buffer))
    blob.commit_block_list([BlobBlock(block_id=block_id) for block_id in block_ids])
    return size


def list_container(container_url: str) -> list[str]:
    """Blob names of an input container, read with the caller's SAS (which needs list permission)."""
    client = ContainerClient.from_container_url(container_url, retry_total=0)
    return [blob.name for blob in client.list_blobs()]


class ResultStorage:
    def __init__(self, connection_string: str, container: str) -> None:
        service = BlobServiceClient.from_connection_string(connection_string)
        self._account_name: str = service.account_name or ""
        self._account_key: str = service.credential.account_key
        self._container = service.get_container_client(container)

    def ensure_container(self) -> None:
        with contextlib.suppress(ResourceExistsError):
            self._container.create_container()

    def _client(self, location: BlobLocation) -> BlobClient:
        if location.container_url is None:
            return self._container.get_blob_client(location.name)
        return ContainerClient.from_container_url(location.container_url).get_blob_client(location.name)

    def write(self, location: BlobLocation, chunks: Iterable[bytes]) -> int:
        return upload_chunks(self._client(location), chunks)

    def url(self, location: BlobLocation, *, expiry: datetime) -> str:
        """Managed blobs get a read-only SAS valid until `expiry`; blobs in a caller's container a plain URL."""
        client = self._client(location)
        if location.container_url is not None:
            return _plain(client.url)
        sas = generate_blob_sas(
            account_name=self._account_name,
            container_name=self._container.container_name,
            blob_name=location.name,
            account_key=self._account_key,
            permission=BlobSasPermissions(read=True),
            start=min(expiry, datetime.now(expiry.tzinfo)) - SAS_BACKDATE,
            expiry=expiry,
        )
        return f"{client.url}?{sas}"

    def delete_managed(self, names: Iterable[str]) -> None:
        """Managed results go with their job; a caller's container is never touched (the service cannot)."""
        for name in names:
            with contextlib.suppress(ResourceNotFoundError):
                self._container.delete_blob(name)

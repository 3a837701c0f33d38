"""The customer's destination container: streamed, conditional, idempotent writes.

Blobs are written as staged blocks and committed with If-None-Match: *, so a blob appears only whole and only
once: a redelivered or concurrent harvest that finds it already there leaves it alone, and downstream blob
triggers fire once per transcript. The sha256 of every blob is kept in its metadata, so a later harvest can
build the manifest without downloading anything again.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from azure.core.credentials import TokenCredential
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.blob import BlobBlock, BlobClient, ContainerClient, ContentSettings

from shared import telemetry
from shared.connections import StorageConnection
from shared.sessions import harvest_session
from shared.settings import Settings

BLOCK_SIZE = 8 * 1024 * 1024
_SHA_KEY = "sha256"


@dataclass(frozen=True)
class Written:
    """A blob in the destination: its size and sha256, and whether this call created it."""

    path: str
    size: int
    sha256: str
    created: bool
    metadata: Mapping[str, str]


def _blocks(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Regroup arbitrary chunks into blocks of `size` bytes (the last one shorter): few requests, bounded memory."""
    pending = bytearray()
    for chunk in chunks:
        pending += chunk
        while len(pending) >= size:
            yield bytes(pending[:size])
            del pending[:size]
    if pending:
        yield bytes(pending)


class Destination:
    """Adapter over one container client (Azurite locally, Azure Storage in production)."""

    def __init__(self, container: ContainerClient, *, block_size: int = BLOCK_SIZE) -> None:
        self._container = container
        self._block_size = block_size

    @classmethod
    def from_settings(cls, settings: Settings, identity: TokenCredential) -> Destination:
        """DESTINATION_CONTAINER_URL with its SAS, or without one through `identity` (the app's managed
        identity); else DESTINATION_CONNECTION and DESTINATION_CONTAINER. One pooled session for all its
        requests, with a connection for each file the instance's harvests write at once."""
        transport = RequestsTransport(
            session=harvest_session(settings.harvest_file_concurrency), session_owner=False
        )
        if settings.destination_container_url is not None:
            url = settings.destination_container_url.get_secret_value()
            credential = None if "sig=" in url else identity
            container = ContainerClient.from_container_url(url, credential=credential, transport=transport)
        else:
            connection, name = settings.destination_connection, settings.destination_container
            if connection is None or name is None:
                raise ValueError(
                    "no destination: set DESTINATION_CONTAINER_URL, or DESTINATION_CONNECTION and "
                    "DESTINATION_CONTAINER"
                )
            container = StorageConnection.from_string(
                connection.get_secret_value(), "DESTINATION_CONNECTION"
            ).container(name, transport=transport)
        destination = cls(container)
        destination.ensure_container()
        return destination

    @property
    def container(self) -> ContainerClient:
        return self._container

    def ensure_container(self) -> None:
        """Create the container when we may; a SAS without create rights is fine if it already exists."""
        try:
            self._container.create_container()
        except ResourceExistsError:
            pass
        except HttpResponseError as error:
            if error.status_code not in (403, 409):
                raise

    def find(self, path: str) -> Written | None:
        """The blob at `path` if it exists (size, recorded sha256), else None."""
        try:
            props = self._container.get_blob_client(path).get_blob_properties()
        except ResourceNotFoundError:
            return None
        metadata = dict(props.metadata or {})
        return Written(path, props.size, metadata.get(_SHA_KEY, ""), False, metadata)

    def folder(self, prefix: str) -> dict[str, Written]:
        """Every blob under `prefix` with its size and metadata, in one listing (a request per 5,000 blobs)
        instead of one request per blob."""
        found = {}
        for props in self._container.list_blobs(name_starts_with=prefix, include=["metadata"]):
            metadata = dict(props.metadata or {})
            found[props.name] = Written(props.name, props.size, metadata.get(_SHA_KEY, ""), False, metadata)
        return found

    def stage(self, path: str, chunks: Iterable[bytes], *, content_type: str) -> Staged:
        """Upload `chunks` as uncommitted blocks; nothing is visible until Staged.commit(). A blob that fits in
        one block is held instead and written whole by commit() in a single request (most transcripts and
        result files are small: one request instead of two)."""
        blob = self._container.get_blob_client(path)
        digest = hashlib.sha256()
        block_ids: list[BlobBlock] = []
        held: bytes | None = None
        size = 0

        def put(index: int, block: bytes) -> None:
            block_id = base64.b64encode(f"{index:08d}".encode()).decode()
            blob.stage_block(block_id, block, length=len(block))
            block_ids.append(BlobBlock(block_id))

        for index, block in enumerate(_blocks(chunks, self._block_size)):
            digest.update(block)
            size += len(block)
            if index == 0:
                held = block
                continue
            if held is not None:
                put(0, held)
                held = None
            put(index, block)
        if not block_ids and held is None:
            held = b""
        return Staged(self, blob, content_type, block_ids, size, digest.hexdigest(), held)

    def write(
        self,
        path: str,
        chunks: Iterable[bytes],
        *,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
    ) -> Written:
        """Stream `chunks` into a new blob; if the blob already exists, keep it and report it as not created."""
        return self.stage(path, chunks, content_type=content_type).commit(metadata)

    def write_bytes(
        self, path: str, data: bytes, *, content_type: str, metadata: Mapping[str, str] | None = None
    ) -> Written:
        return self.write(path, [data], content_type=content_type, metadata=metadata)

    def read(self, path: str) -> bytes | None:
        try:
            return self._container.get_blob_client(path).download_blob().readall()
        except ResourceNotFoundError:
            return None

    def delete(self, path: str) -> None:
        """Remove a blob if it exists (ops: a manifest to be written anew)."""
        with contextlib.suppress(ResourceNotFoundError):
            self._container.get_blob_client(path).delete_blob()

    def url(self, path: str) -> str:
        """The blob's URL without any SAS: safe to show in the status API and logs."""
        return self._container.get_blob_client(path).url.split("?", 1)[0]


@dataclass(frozen=True)
class Staged:
    """Blocks uploaded but not yet committed: the blob appears, whole, only when commit() succeeds."""

    destination: Destination
    blob: BlobClient  # made once per blob: a client costs about as much CPU as the request it sends
    content_type: str
    blocks: list[BlobBlock]
    size: int
    sha256: str
    whole: bytes | None = None  # a blob of one block, written by commit() in one request

    @property
    def path(self) -> str:
        return self.blob.blob_name

    def commit(self, metadata: Mapping[str, str] | None = None) -> Written:
        full_metadata = {**(metadata or {}), _SHA_KEY: self.sha256}
        blob = self.blob
        settings = ContentSettings(content_type=self.content_type)
        try:
            if self.whole is not None:
                # overwrite=False sends If-None-Match: *, as the block list commit does.
                blob.upload_blob(
                    self.whole,
                    length=len(self.whole),
                    overwrite=False,
                    metadata=full_metadata,
                    content_settings=settings,
                )
            else:
                blob.commit_block_list(
                    self.blocks, if_none_match="*", metadata=full_metadata, content_settings=settings
                )
        except ResourceExistsError:
            existing = self.destination.find(self.path)
            if existing is None:  # deleted between our write and our read: a retry writes it again
                raise RuntimeError(f"{self.path}: refused as existing, then not found") from None
            return existing
        telemetry.blob_written(self.path, self.size, full_metadata)
        return Written(self.path, self.size, self.sha256, True, full_metadata)

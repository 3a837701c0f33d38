import hashlib
import uuid

import pytest
from azure.storage.blob import BlobServiceClient

from shared.destination import Destination


@pytest.fixture
def destination(storage_connection_string):
    service = BlobServiceClient.from_connection_string(storage_connection_string)
    container = service.get_container_client(f"dest{uuid.uuid4().hex[:12]}")
    dest = Destination(container, block_size=1024)
    dest.ensure_container()
    return dest


def test_streamed_write_is_byte_exact_and_hashed(destination):
    payload = bytes(range(256)) * 37  # several blocks of 1 KiB, last one short
    chunks = [payload[i : i + 333] for i in range(0, len(payload), 333)]
    written = destination.write(
        "a/b.json", iter(chunks), content_type="application/json", metadata={"k": "v"}
    )
    assert written.created
    assert written.size == len(payload)
    assert written.sha256 == hashlib.sha256(payload).hexdigest()
    assert destination.read("a/b.json") == payload
    found = destination.find("a/b.json")
    assert found.metadata["k"] == "v"
    assert found.sha256 == written.sha256


def test_existing_blob_is_never_overwritten(destination):
    destination.write_bytes("x.json", b"first", content_type="application/json")
    again = destination.write_bytes("x.json", b"second", content_type="application/json")
    assert not again.created
    assert destination.read("x.json") == b"first"
    assert again.sha256 == hashlib.sha256(b"first").hexdigest()


def test_existing_blob_is_never_overwritten_by_a_blob_of_several_blocks(destination):
    destination.write_bytes("y.json", b"first", content_type="application/json")
    again = destination.write("y.json", [b"z" * 3000], content_type="application/json")
    assert not again.created
    assert destination.read("y.json") == b"first"


def test_blob_of_one_block_is_held_until_commit_then_written_whole(destination):
    staged = destination.stage("one.json", [b"a" * 1000], content_type="application/json")
    assert staged.whole == b"a" * 1000
    assert staged.blocks == []
    assert staged.commit().created
    assert destination.read("one.json") == b"a" * 1000


def test_staged_blob_is_invisible_until_committed(destination):
    staged = destination.stage("s.json", [b"abc"], content_type="application/json")
    assert destination.find("s.json") is None
    committed = staged.commit({"stem": "s"})
    assert committed.created
    assert destination.find("s.json").metadata["stem"] == "s"


def test_empty_blob(destination):
    written = destination.write("empty.json", [], content_type="application/json")
    assert written.size == 0
    assert destination.read("empty.json") == b""


def test_url_has_no_query(destination):
    assert "?" not in destination.url("a/b.json")

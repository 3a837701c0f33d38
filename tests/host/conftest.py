"""Fixtures for the host tests: the test apps' outbox, unique queues on Azurite, and an in-process Host."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from local.host import Host

APPS = Path(__file__).parent / "apps"


class Outbox:
    """The events the test apps' functions recorded, oldest first."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        found = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(self.path.glob("*.json"))]
        return [event for event in found if kind is None or event["kind"] == kind]


@dataclass
class Queues:
    """A fresh work queue (and its poison queue) for one test; bodies are sent base64 like the host expects."""

    name: str
    work: QueueClient
    raw: QueueClient
    poison: QueueClient

    def send(self, command: dict[str, Any]) -> str:
        """Send a JSON command base64-encoded; returns the text as stored in the queue."""
        text = json.dumps(command)
        self.work.send_message(text)
        return base64.b64encode(text.encode()).decode()

    def poisoned(self) -> list[str]:
        try:
            return [message.content for message in self.poison.peek_messages(max_messages=32)]
        except ResourceNotFoundError:
            return []

    def remaining(self) -> int:
        """Messages left in the work queue, visible or not."""
        return self.raw.get_queue_properties().approximate_message_count

    def visible(self) -> bool:
        return bool(self.raw.peek_messages(max_messages=1))


@pytest.fixture
def outbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Outbox:
    path = tmp_path / "outbox"
    path.mkdir()
    monkeypatch.setenv("HOST_TEST_OUTBOX", str(path))
    return Outbox(path)


@pytest.fixture
def queues(storage_connection_string: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Queues]:
    name = f"host-{uuid.uuid4().hex[:16]}"
    monkeypatch.setenv("AzureWebJobsStorage", storage_connection_string)
    monkeypatch.setenv("WORK_QUEUE", name)
    raw = QueueClient.from_connection_string(storage_connection_string, name)
    raw.create_queue()
    result = Queues(
        name=name,
        work=QueueClient.from_connection_string(
            storage_connection_string, name, message_encode_policy=TextBase64EncodePolicy()
        ),
        raw=raw,
        poison=QueueClient.from_connection_string(storage_connection_string, f"{name}-poison"),
    )
    yield result
    for client in (result.raw, result.poison):
        with suppress(ResourceNotFoundError):
            client.delete_queue()


@pytest.fixture
def in_process_host() -> Callable[..., AbstractContextManager[Host]]:
    """Factory: `with in_process_host("queue_app", message_lease_seconds=1) as host:` (port 0, short grace)."""

    @contextmanager
    def start(app: str, **options: Any) -> Iterator[Host]:
        with Host(APPS / app, port=0, shutdown_grace=options.pop("shutdown_grace", 5.0), **options) as host:
            yield host

    return start

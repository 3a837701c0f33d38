"""Fixtures for the Speech client tests: one scripted HTTP server per session, a fresh script per test."""

import uuid
from collections.abc import Iterator

import pytest

from tests.speech.scripted_server import ScriptedServer


@pytest.fixture(scope="session")
def _scripted_server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


@pytest.fixture
def server(_scripted_server: ScriptedServer) -> ScriptedServer:
    _scripted_server.script()
    return _scripted_server


@pytest.fixture
def key() -> str:
    """A key of its own per test: clients sharing endpoint and key share a rate-limit window by design."""
    return f"test-key-{uuid.uuid4().hex}"


@pytest.fixture
def waits() -> list[float]:
    """Pass `waits.append` as a client's `sleep`: records each wait instead of sleeping."""
    return []

"""The local stack for benches: Azurite, the Speech emulator and the app's parts wired to them."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from local.azurite import Azurite
from local.speech_emulator import EmulatorConfig, EmulatorServer
from shared.runtime import Components, build
from shared.settings import load_settings
from shared.speech import SpeechClient

KEY = "bench-key"


@dataclass
class BenchStack:
    azurite: Azurite
    emulator: EmulatorServer

    def env(self, api_version: str = "2024-11-15", **overrides: str) -> dict[str, str]:
        suffix = uuid.uuid4().hex[:10]
        env = {
            "SPEECH_ENDPOINT": self.emulator.endpoint,
            "SPEECH_KEY": KEY,
            "SPEECH_API_VERSION": api_version,
            "AzureWebJobsStorage": self.azurite.connection_string,
            "DESTINATION_CONNECTION": self.azurite.connection_string,
            "DESTINATION_CONTAINER": f"bench-{suffix}",
            "HARVEST_QUEUE": f"bench-{suffix}",
            "LEDGER_TABLE": f"bench{suffix}",
            "POLL_OVERLAP_SECONDS": "0",
        }
        env.update(overrides)
        return env

    def parts(self, *, rate_limit: int | None = None, **overrides: str) -> Components:
        """The app's parts; `rate_limit` replaces the client's 100 requests / 10 s (to measure our own speed)."""
        settings = load_settings(self.env(**overrides))
        parts = build(settings)
        if rate_limit is not None:
            speech = SpeechClient(
                settings.speech_endpoint,
                api_version=settings.speech_api_version,
                key=KEY,
                rate_limit=rate_limit,
            )
            parts = dataclasses.replace(parts, speech=speech)
        return parts


@contextmanager
def bench_stack(*, phase_seconds: float = 0.1, throttle_limit: int = 100) -> Iterator[BenchStack]:
    with Azurite() as azurite:
        config = EmulatorConfig(
            storage_connection_string=azurite.connection_string,
            keys=(KEY,),
            phase_seconds=phase_seconds,
            throttle_limit=throttle_limit,
        )
        with EmulatorServer(config) as emulator:
            yield BenchStack(azurite, emulator)

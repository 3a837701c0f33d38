"""Everything one emulator instance knows, shared by its request handlers (event-loop thread only)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from local.speech_emulator.config import EmulatorConfig
from local.speech_emulator.faults import FaultBook
from local.speech_emulator.materialise import Materialiser
from local.speech_emulator.stats import Stats
from local.speech_emulator.storage import ResultStorage
from local.speech_emulator.store import JobStore
from local.speech_emulator.throttle import SlidingWindowThrottle


@dataclass
class EmulatorState:
    config: EmulatorConfig
    store: JobStore
    stats: Stats
    faults: FaultBook
    throttle: SlidingWindowThrottle
    storage: ResultStorage
    materialiser: Materialiser
    clock: Callable[[], datetime]

    @classmethod
    def create(
        cls, config: EmulatorConfig, storage: ResultStorage, clock: Callable[[], datetime]
    ) -> EmulatorState:
        return cls(
            config=config,
            store=JobStore(),
            stats=Stats(),
            faults=FaultBook(default_retry_after=config.retry_after_seconds),
            throttle=SlidingWindowThrottle(config.throttle_limit, config.throttle_window_seconds),
            storage=storage,
            materialiser=Materialiser(storage),
            clock=clock,
        )

    def reset(self) -> None:
        """Forget jobs, faults, stats and throttle history (result blobs already written stay in Azurite)."""
        self.store.clear()
        self.stats.clear()
        self.faults.clear()
        self.throttle.clear()
        self.materialiser.clear()

"""Everything one emulator instance knows, shared by its request handlers (event-loop thread only)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from local.speech_emulator.config import EmulatorConfig
from local.speech_emulator.conversations_store import ConversationStore
from local.speech_emulator.faults import FaultBook
from local.speech_emulator.materialise import Materialiser
from local.speech_emulator.notifier import Notifier
from local.speech_emulator.stats import Stats
from local.speech_emulator.storage import ResultStorage
from local.speech_emulator.store import JobStore
from local.speech_emulator.throttle import SlidingWindowThrottle
from local.speech_emulator.webhook_delivery import DeliveryWorker
from local.speech_emulator.webhook_store import WebHookStore


@dataclass
class EmulatorState:
    config: EmulatorConfig
    store: JobStore
    stats: Stats
    faults: FaultBook
    throttle: SlidingWindowThrottle
    storage: ResultStorage
    materialiser: Materialiser
    notifier: Notifier
    conversations: ConversationStore
    clock: Callable[[], datetime]

    @classmethod
    def create(
        cls, config: EmulatorConfig, storage: ResultStorage, clock: Callable[[], datetime]
    ) -> EmulatorState:
        worker = DeliveryWorker(
            retries=config.webhook_retries,
            interval=config.webhook_retry_interval_seconds,
            timeout=config.webhook_timeout_seconds,
        )
        notifier = Notifier(WebHookStore(), worker, clock)
        return cls(
            config=config,
            store=JobStore(listener=notifier),
            stats=Stats(),
            faults=FaultBook(default_retry_after=config.retry_after_seconds),
            throttle=SlidingWindowThrottle(config.throttle_limit, config.throttle_window_seconds),
            storage=storage,
            materialiser=Materialiser(storage),
            notifier=notifier,
            conversations=ConversationStore(),
            clock=clock,
        )

    def reset(self) -> None:
        """Forget jobs, web hooks (and callbacks not yet made), conversations, faults, stats and throttle history
        (result blobs already written stay in Azurite)."""
        self.store.clear()
        self.notifier.clear()
        self.conversations.clear()
        self.stats.clear()
        self.faults.clear()
        self.throttle.clear()
        self.materialiser.clear()

"""Counters of Speech API calls for the admin API, so tests can assert how a client used the service
(e.g. "one list call per poll, not one GET per job")."""

from __future__ import annotations

from collections import Counter

from local.speech_emulator.admin_wire import StatsOut


class Stats:
    def __init__(self) -> None:
        self._routes: Counter[str] = Counter()
        self._statuses: Counter[str] = Counter()

    def record(self, route: str, status: int | None) -> None:
        """Count one call; a dropped connection (no status) counts for its route but under no status."""
        self._routes[route] += 1
        if status is not None:
            self._statuses[str(status)] += 1

    def snapshot(self) -> StatsOut:
        return StatsOut(
            total=sum(self._routes.values()), routes=dict(self._routes), statuses=dict(self._statuses)
        )

    def clear(self) -> None:
        self._routes.clear()
        self._statuses.clear()

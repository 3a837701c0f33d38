"""The app-wide Speech budget on Azurite: several instances (here: several objects) lease from one row."""

import threading
import uuid

import pytest

from shared.connections import StorageConnection
from shared.rate_budget import SharedRateBudget, parse_grants
from tests.fixtures.waiting import wait_for


class Clock:
    """Epoch seconds that move only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1_764_240_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def table_name():
    return f"budget{uuid.uuid4().hex[:12]}"


def instance(connection, table_name, clock, *, limit=5):
    budget = SharedRateBudget.open(
        StorageConnection.from_string(connection), table_name, "resource", limit=limit
    )
    budget._clock = clock
    return budget


def test_instances_share_one_window(storage_connection_string, table_name):
    clock = Clock()
    first = instance(storage_connection_string, table_name, clock)
    second = instance(storage_connection_string, table_name, clock)
    for budget in (first, second, first, second, first):
        assert budget.acquire(clock.sleep) == 0
        clock.now += 0.5
    # Five requests in the span: the sixth, on either instance, waits for the first grant to age out.
    waited = second.acquire(clock.sleep)
    assert waited == pytest.approx(first.span - 2.5)
    assert first.acquire(clock.sleep) > 0  # its cached row was stale: it re-read, and waited too
    row = first._table.get_entity("speech", "resource")
    assert sum(g.count for g in parse_grants(row["grants"])) <= 5


def test_threads_waiting_in_one_process_lease_one_batch(storage_connection_string, table_name):
    clock = Clock()
    budget = instance(storage_connection_string, table_name, clock, limit=100)
    budget._validity = 60.0  # the fake clock does not move: keep the batch's tokens valid
    threads = [threading.Thread(target=budget.acquire, args=(clock.sleep,)) for _ in range(4)]
    with budget._lock:  # as if a lease were in flight while four requests arrive
        for thread in threads:
            thread.start()
        wait_for(lambda: budget._waiting == 4, timeout=10, what="four threads waiting")
    for thread in threads:
        thread.join(10)
    row = budget._table.get_entity("speech", "resource")
    assert [g.count for g in parse_grants(row["grants"])] == [4]
    assert budget.leases == 1

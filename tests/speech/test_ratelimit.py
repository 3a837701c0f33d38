import threading

import pytest

from shared.speech.ratelimit import (
    SlidingWindowLimiter,
    credential_fingerprint,
    next_slot,
    shared_limiter,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_next_slot_is_now_while_the_window_has_room():
    assert next_slot([], 5.0, 3, 10.0) == 5.0
    assert next_slot([1.0, 2.0], 5.0, 3, 10.0) == 5.0


def test_next_slot_waits_for_the_oldest_request_in_the_window_to_age_out():
    assert next_slot([1.0, 2.0, 3.0], 5.0, 3, 10.0) == 11.0
    assert next_slot([1.0, 2.0, 3.0, 11.0], 5.0, 3, 10.0) == 12.0


def test_next_slot_never_goes_before_a_reservation():
    assert next_slot([1.0, 30.0], 5.0, 3, 10.0) == 30.0


def windows_hold(times: list[float], limit: int, window: float) -> bool:
    return all(sum(1 for t in times if start <= t < start + window) <= limit for start in times)


def test_limiter_keeps_every_window_under_the_limit_and_waits_only_when_full():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(3, 10.0, clock=clock)
    waits, sent = [], []
    for _ in range(10):
        waits.append(limiter.acquire(clock.sleep))
        sent.append(clock.now)
        clock.now += 1.0  # one request per second of work
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(7.0)  # request 1 at t=0 leaves the window at t=10
    assert windows_hold(sent, 3, 10.0)
    assert sent[-1] - sent[0] >= 30.0  # 10 requests at 3 per 10 s take at least 3 full windows


def test_concurrent_reservations_never_overbook():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(5, 10.0, clock=clock)
    slots: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(20):
            wait = limiter.reserve()
            with lock:
                slots.append(clock.now + wait)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    slots.sort()
    assert len(slots) == 80
    assert windows_hold(slots, 5, 10.0)


def test_limiter_rejects_nonsense():
    with pytest.raises(ValueError, match="rate limit"):
        SlidingWindowLimiter(0, 10.0)


def test_shared_limiter_is_one_per_resource_and_setting():
    a = shared_limiter("https://h", credential_fingerprint("k1"), 100, 10.0)
    assert shared_limiter("https://h", credential_fingerprint("k1"), 100, 10.0) is a
    assert shared_limiter("https://h", credential_fingerprint("k2"), 100, 10.0) is not a
    assert shared_limiter("https://other", credential_fingerprint("k1"), 100, 10.0) is not a
    assert shared_limiter("https://h", credential_fingerprint("k1"), 50, 10.0) is not a


def test_credential_fingerprint_does_not_contain_the_key():
    key = "0123456789abcdef"
    assert key not in credential_fingerprint(key)
    assert credential_fingerprint(key) != credential_fingerprint(key + "x")
    assert credential_fingerprint(None) == "token"

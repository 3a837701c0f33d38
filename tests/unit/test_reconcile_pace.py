from datetime import timedelta

from shared.poll import MAX_RECONCILE_PAGES, reconcile_pages

HOUR = timedelta(hours=1)


def sweep_ticks(total: int, ticks_per_hour: int) -> int:
    """Ticks a sweep of `total` jobs takes at this pace (each page lists 100)."""
    skip, tick = 0, 0
    while skip < total:
        elapsed = HOUR * tick / ticks_per_hour
        skip += 100 * reconcile_pages(total, skip, elapsed=elapsed, interval=HOUR)
        tick += 1
    return tick


def test_one_page_a_tick_while_that_finishes_in_time():
    assert reconcile_pages(1000, 0, elapsed=timedelta(0), interval=HOUR) == 1
    assert reconcile_pages(5000, 2800, elapsed=HOUR / 2, interval=HOUR) == 1
    assert sweep_ticks(1000, 60) == 10


def test_more_pages_when_one_a_tick_could_not_finish_within_the_interval():
    assert sweep_ticks(10_000, 60) <= 60  # within the hour
    assert sweep_ticks(30_000, 60) <= 60
    assert reconcile_pages(10_000, 0, elapsed=HOUR / 2, interval=HOUR) > 1


def test_pace_is_bounded_and_never_zero():
    assert reconcile_pages(10**7, 0, elapsed=HOUR, interval=HOUR) == MAX_RECONCILE_PAGES
    assert reconcile_pages(100, 500, elapsed=HOUR, interval=HOUR) == 1

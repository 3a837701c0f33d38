from datetime import timedelta

from shared.poll import MAX_RECONCILE_PAGES, sweep_pages

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def sweep(total: int, ticks: int, interval: timedelta, *, spread: bool) -> list[int]:
    """Pages listed on each tick of a sweep of `total` jobs (each page lists 100), `ticks` ticks an interval."""
    skip, per_tick = 0, []
    while skip < total:
        elapsed = interval * len(per_tick) / ticks
        pages = sweep_pages(total, skip, elapsed=elapsed, interval=interval, spread=spread)
        skip += 100 * pages
        per_tick.append(pages)
    return per_tick


def test_one_page_a_tick_while_that_finishes_in_time():
    assert sweep_pages(1000, 0, elapsed=timedelta(0), interval=HOUR, spread=False) == 1
    assert sweep_pages(5000, 2800, elapsed=HOUR / 2, interval=HOUR, spread=False) == 1
    assert len(sweep(1000, 60, HOUR, spread=False)) == 10


def test_more_pages_when_one_a_tick_could_not_finish_within_the_interval():
    assert len(sweep(10_000, 60, HOUR, spread=False)) <= 60  # within the hour
    assert len(sweep(30_000, 60, HOUR, spread=False)) <= 60
    assert sweep_pages(10_000, 0, elapsed=HOUR / 2, interval=HOUR, spread=False) > 1


def test_a_spread_sweep_lists_its_first_page_at_once_then_only_as_its_course_asks():
    per_tick = sweep(10_000, 1440, DAY, spread=True)
    assert per_tick[0] == 1
    assert max(per_tick) == 1
    assert sum(per_tick) == 100
    assert len(per_tick) <= 0.9 * 1440 + 1  # done within 90% of the day
    first_hour = per_tick[:60]
    assert sum(first_hour) <= 6  # about one page every 13 ticks
    assert sweep_pages(10_000, 500, elapsed=HOUR, interval=DAY, spread=True) == 0  # ahead of its course


def test_pace_is_bounded_and_never_zero_once_due():
    assert sweep_pages(10**7, 0, elapsed=HOUR, interval=HOUR, spread=False) == MAX_RECONCILE_PAGES
    assert sweep_pages(100, 500, elapsed=HOUR, interval=HOUR, spread=False) == 1
    # More jobs than the last sweep found: a late spread sweep still lists a page a tick until it ends.
    assert sweep_pages(100, 500, elapsed=DAY, interval=DAY, spread=True) == 1

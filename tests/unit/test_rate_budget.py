from shared.rate_budget import Grant, format_grants, lease, parse_grants


def test_grants_up_to_what_is_free_in_the_span():
    grants = [Grant(100.0, 6), Grant(104.0, 3)]
    decision = lease(grants, 105.0, 5, limit=10, span=10.5)
    assert decision.granted == 1
    assert decision.wait == 0
    assert decision.grants == [*grants, Grant(105.0, 1)]


def test_grants_that_aged_out_free_their_requests_and_leave_the_row():
    decision = lease([Grant(90.0, 10), Grant(100.0, 2)], 101.0, 4, limit=10, span=10.5)
    assert decision.granted == 4
    assert decision.grants == [Grant(100.0, 2), Grant(101.0, 4)]


def test_a_spent_budget_waits_until_enough_of_the_oldest_grants_age_out():
    grants = [Grant(100.5, 4), Grant(100.0, 3), Grant(101.0, 3)]
    decision = lease(grants, 105.0, 2, limit=10, span=10.5)
    assert decision.granted == 0
    # The oldest grant (100.0, 3) ages out at 110.5: then 7 of 10 are in use.
    assert decision.wait == 5.5
    decision = lease(grants, 110.6, 2, limit=10, span=10.5)
    assert decision.granted == 2


def test_the_row_format_round_trips_and_ignores_what_it_cannot_read():
    grants = [Grant(1764240000.125, 3), Grant(1764240001.5, 1)]
    assert parse_grants(format_grants(grants)) == grants
    assert parse_grants("1764240000.125:3 junk 5:x :") == [Grant(1764240000.125, 3)]
    assert parse_grants("") == []

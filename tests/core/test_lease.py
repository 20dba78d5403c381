"""Fault leases as pure functions: expiry at a time, the next renewal, a drill's terms by speed."""

from __future__ import annotations

import pytest

from lab.core import lease


@pytest.mark.parametrize(("until", "now", "expected"), [
    (None, 1e12, False),  # no lease: never expires
    (100.0, 99.9, False),
    (100.0, 100.0, True),
    (100.0, 250.0, True),
])
def test_a_lease_has_expired_from_its_expiry_on(until, now, expected):
    assert lease.expired(until, now) is expected


def test_the_next_renewal_is_one_period_after_the_last_or_now_when_late():
    assert lease.next_renewal(10.0, 10.2, 1.0) == 11.0
    assert lease.next_renewal(10.0, 13.5, 1.0) == 13.5
    assert lease.next_renewal(0.0, 5.0, 1.0) == 5.0  # never renewed: due now


def test_remaining_seconds_never_go_below_zero():
    assert lease.remaining(None, 5.0) is None
    assert lease.remaining(10.0, 7.5) == 2.5
    assert lease.remaining(10.0, 12.0) == 0.0


@pytest.mark.parametrize(("speed", "lease_s"), [(0.5, 10.0), (1.0, 10.0), (2.0, 5.0), (10.0, 5.0), (1000.0, 5.0)])
def test_a_drill_lease_is_ten_real_seconds_shortened_for_compressed_drills(speed, lease_s):
    terms = lease.drill_terms(speed)
    assert terms.lease_s == lease_s
    assert terms.renew_every_s == 1.0
    assert terms.lease_s >= 5 * terms.renew_every_s  # several renewals may be missed before it runs out

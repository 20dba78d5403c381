"""Fault leases (pure: times are data): when a lease has run out, and when a holder renews it.

    inject ── lease_until = now + lease ──▶ renewed every `renew_every` s ──▶ holder gone: no renewal
                                                                              ──▶ expired ──▶ watchdog reverts

A lease is an expiry in wall time (seconds since the epoch); a fault without one (None) never
expires: it stays active until someone reverts it, as a hand `gameday inject` does by default.
Leases are real seconds whatever the drill's speed: renewal happens in real time.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_LEASE_S = 5.0
MAX_LEASE_S = 10.0
RENEW_EVERY_S = 1.0


@dataclass(frozen=True)
class LeaseTerms:
    """How long a drill's lease lasts and how often the drill renews it (real seconds)."""

    lease_s: float
    renew_every_s: float


def drill_terms(speed: float) -> LeaseTerms:
    """A drill's lease: 10 s at speed 1, shorter for a compressed drill (down to 5 s at speed 2 and
    above), renewed every second, so a lost runner's harm ends sooner when drill time runs faster."""
    lease = min(MAX_LEASE_S, max(MIN_LEASE_S, MAX_LEASE_S / max(speed, 1e-9)))
    return LeaseTerms(lease_s=lease, renew_every_s=min(RENEW_EVERY_S, lease / 5))


def expired(lease_until: float | None, now: float) -> bool:
    """True if the lease ran out at or before `now` (None: no lease, never expires)."""
    return lease_until is not None and now >= lease_until


def next_renewal(last_renewed: float, now: float, every: float) -> float:
    """When the next renewal is due: `every` after the last one, or now if that moment has passed."""
    return max(now, last_renewed + every)


def remaining(lease_until: float | None, now: float) -> float | None:
    """Seconds left on the lease (0 once it ran out; None: no lease)."""
    return None if lease_until is None else max(0.0, lease_until - now)

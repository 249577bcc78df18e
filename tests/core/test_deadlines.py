"""The deadline index behind the browser's status counts agrees with sorting every deadline afresh."""

from __future__ import annotations

import random

import pytest

from kdocs_viewer.core.deadlines import DeadlineIndex
from kdocs_viewer.core.expiry import EXPIRING_SOON, lease_state
from kdocs_viewer.core.models import Lease, LeaseState, PicRef


def _brute(deadlines: dict[tuple[str, str], float], now: float, soon: float) -> tuple[int, int]:
    expired = sum(1 for d in deadlines.values() if d <= now)
    return expired, sum(1 for d in deadlines.values() if now < d < now + soon)


@pytest.mark.parametrize("batch", [1, 7, 300, 1000])
def test_counts_match_a_full_sort_through_random_updates(batch: int) -> None:
    rng = random.Random(batch)
    index = DeadlineIndex()
    truth: dict[tuple[str, str], float] = {}
    idents = [(f"k{i}", "photo") for i in range(1500)]
    for _ in range(12):
        repeated = rng.choice(idents)
        changes: list[tuple[tuple[str, str], float | None]] = []
        for ident in rng.sample(idents, batch):
            deadline = None if rng.random() < 0.1 else float(rng.randrange(0, 200))  # ties on purpose
            changes.append((ident, deadline))
            if deadline is None:
                truth.pop(ident, None)
            else:
                truth[ident] = deadline
        changes += [(repeated, 1.0), (repeated, 2.0)]
        truth[repeated] = 2.0
        index.update(changes)
        assert len(index) == len(truth)
        for now in (0.0, 59.0, 60.0, 100.5, 140.0, 250.0):
            assert index.counts(now, 60.0) == _brute(truth, now, 60.0)


def test_clear_forgets_everything() -> None:
    index = DeadlineIndex()
    index.update([(("a", "t"), 5.0), (("b", "t"), 50.0)])
    assert index.counts(10.0, 60.0) == (1, 1)
    index.clear()
    assert index.counts(10.0, 60.0) == (0, 0)
    assert len(index) == 0


def test_counts_are_the_lease_badges_expired_and_expiring_soon() -> None:
    """The status bar's counts (``stats()``: the index at EXPIRING_SOON) agree with ``expiry.lease_state``,
    the rule every badge is painted by."""
    rng = random.Random(7)
    now = 10_000.0
    leases = [
        Lease(PicRef(f"k{i}", "photo"), "https://cdn.example/p", now - rng.uniform(0, 700), 600.0)
        for i in range(2000)
    ]
    leases += [Lease(PicRef("edge", "photo"), "https://cdn.example/p", now + EXPIRING_SOON - 600.0, 600.0)]
    index = DeadlineIndex()
    index.update((lease.ref.ident, lease.expires_at) for lease in leases)
    states = [lease_state(lease, now) for lease in leases]
    expired, soon = index.counts(now, EXPIRING_SOON)
    assert (expired, soon) == (states.count(LeaseState.EXPIRED), states.count(LeaseState.EXPIRING))
    assert 0 < soon < expired

"""The save progress's time left, on a fake clock."""

from __future__ import annotations

import pytest

from kdocs_viewer.core.eta import EtaEstimator


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_no_estimate_before_there_is_something_to_go_on() -> None:
    clock = FakeClock()
    eta = EtaEstimator(clock)
    assert eta.seconds_left(0, 10) is None
    clock.now += 0.2
    eta.update(1)  # shorter than min_interval: merged into the next interval
    assert eta.rate() is None
    assert eta.seconds_left(1, 10) is None


def test_steady_rate_gives_the_plain_answer() -> None:
    clock = FakeClock()
    eta = EtaEstimator(clock)
    for done in range(1, 6):  # 2 pictures a second
        clock.now += 1.0
        eta.update(done * 2)
    assert eta.rate() == pytest.approx(2.0)
    assert eta.seconds_left(10, 40) == pytest.approx(15.0)
    assert eta.seconds_left(40, 40) == 0.0


def test_one_slow_interval_moves_the_estimate_only_part_way() -> None:
    clock = FakeClock()
    eta = EtaEstimator(clock, smoothing=0.25)
    done = 0
    for _ in range(4):
        clock.now += 1.0
        done += 4
        eta.update(done)
    assert eta.rate() == pytest.approx(4.0)
    clock.now += 1.0  # one big download: nothing finished in this second
    eta.update(done)
    assert eta.rate() == pytest.approx(3.0)  # 0.25 * 0 + 0.75 * 4, not 0
    left = eta.seconds_left(done, done + 30)
    assert left == pytest.approx(10.0)


def test_bad_smoothing_is_refused() -> None:
    with pytest.raises(ValueError, match="smoothing"):
        EtaEstimator(FakeClock(), smoothing=0)

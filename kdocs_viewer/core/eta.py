"""Time left for a batch (the save progress), from how fast work gets done — no Qt, a clock you can pass in.

The rate is smoothed (an exponential moving average of the per-interval rate) so a burst of small cached
pictures or one slow download does not make the estimate jump about. Nothing is promised until the batch has
run for ``warmup`` seconds and done something: an ETA from the first picture alone is mostly noise.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["EtaEstimator"]


class EtaEstimator:
    """Feed it ``update(done)`` as units (pictures) complete; ask ``seconds_left(done, total)``.

    ``smoothing`` is the weight of the newest interval's rate (0 < smoothing ≤ 1); intervals shorter than
    ``min_interval`` are merged into the next one so ten reports a second do not each swing the rate.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        smoothing: float = 0.3,
        min_interval: float = 0.5,
        warmup: float = 1.0,
    ) -> None:
        if not 0 < smoothing <= 1:
            raise ValueError(f"smoothing must be in (0, 1], got {smoothing}")
        self._clock = clock
        self._smoothing = smoothing
        self._min_interval = min_interval
        self._warmup = warmup
        self._started = clock()
        self._mark_time = self._started
        self._mark_done = 0
        self._rate: float | None = None  # units per second, smoothed

    def update(self, done: int) -> None:
        now = self._clock()
        elapsed = now - self._mark_time
        if elapsed < self._min_interval:
            return
        rate = max(0, done - self._mark_done) / elapsed
        if self._rate is not None:
            rate = self._smoothing * rate + (1 - self._smoothing) * self._rate
        self._rate = rate
        self._mark_time, self._mark_done = now, done

    def rate(self) -> float | None:
        """Smoothed units per second, or None before the first full interval."""
        return self._rate

    def seconds_left(self, done: int, total: int) -> float | None:
        """Estimated seconds until ``total`` is reached; None while there is nothing to go on yet."""
        if done >= total:
            return 0.0
        if self._rate is None or self._rate <= 0 or done <= 0:
            return None
        if self._clock() - self._started < self._warmup:
            return None
        return (total - done) / self._rate

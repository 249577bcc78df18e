"""A 5 ms heartbeat on the GUI thread: the gaps between its ticks are what a user feels as stutter."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QTimer, Slot

from bench.stats import percentile


class Heartbeat(QObject):
    """Records the time between ticks of a precise 5 ms timer; a long gap is a GUI-thread stall."""

    def __init__(self, interval_ms: int = 5, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self._start = 0.0
        self.gaps: list[float] = []
        self.ends: list[float] = []  # when each gap ended, seconds after start()

    def start(self) -> None:
        self.gaps.clear()
        self.ends.clear()
        self._last = self._start = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        # A stall still in progress when we stop counts too.
        self._tick()

    @Slot()
    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self.ends.append(now - self._start)
        self._last = now

    def worst(self, n: int = 5) -> list[tuple[float, float]]:
        """The ``n`` longest gaps as (ms, seconds after start when the stall began), longest first."""
        order = sorted(range(len(self.gaps)), key=self.gaps.__getitem__, reverse=True)[:n]
        return [(round(self.gaps[i] * 1000, 1), round(self.ends[i] - self.gaps[i], 3)) for i in order]

    def summary(self) -> dict[str, float]:
        """Longest stall and 99th-percentile gap in milliseconds, and the tick count."""
        ms = [g * 1000.0 for g in self.gaps]
        return {"max_gap_ms": max(ms, default=0.0), "p99_gap_ms": percentile(ms, 99), "ticks": float(len(ms))}

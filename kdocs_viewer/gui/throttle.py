"""``Throttle``: an action run at most every so often, without holding back the first of a quiet spell."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

__all__ = ["Throttle"]


class Throttle(QObject):
    """Runs ``action`` at most every ``interval_ms``: at once when the last run is that old, else when it will
    be, once for everything asked meanwhile. A trailing-only batch (a single-shot timer) would hold every
    lone event back by the whole interval. GUI thread."""

    def __init__(self, interval_ms: int, action: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._interval_ms = interval_ms
        self._action = action
        self._last = -math.inf  # time.monotonic() of the last run
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.now)

    def soon(self) -> None:
        """Run the action now if it may, else once when it may (asking again meanwhile changes nothing)."""
        if self._timer.isActive():
            return
        wait_ms = self._interval_ms - (time.monotonic() - self._last) * 1000
        if wait_ms <= 0:
            self.now()
        else:
            self._timer.start(math.ceil(wait_ms))

    def now(self) -> None:
        """Run the action now, and count the interval from here."""
        self._timer.stop()
        self._last = time.monotonic()
        self._action()

    def pending(self) -> bool:
        """A run is waiting for its time."""
        return self._timer.isActive()

    def stop(self) -> None:
        """Drop the waiting run, if any."""
        self._timer.stop()

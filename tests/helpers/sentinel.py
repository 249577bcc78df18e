"""A positive wait for "nothing happened by then": a precise single-shot timer on the GUI thread.

Qt fires due timers in the order of their deadlines, so when a ``Sentinel`` fires, every GUI-thread timer
due before it has fired and its slot has run. At that moment a test checks what those slots would have
done synchronously (planned a refresh, released a queue, asked a gate) — a check that cannot pass just
because it looked too early, unlike "sleep, then see that nothing happened".

Make the sentinel where the delay it stands for starts (inside the slot of the event it is measured
from), not "now" in the test. ``QTimer``'s default timers are coarse: Qt may move them by up to 5 % of
their interval, so a sentinel meant to come after one needs ``after_coarse`` room.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Slot
from pytestqt.qtbot import QtBot

COARSE_SLACK = 0.05  # Qt's promise for Qt::CoarseTimer: within 5 % of the interval


def after_coarse(interval_ms: float, margin_ms: int = 20) -> int:
    """A delay that ends after a coarse timer of ``interval_ms`` armed at the same moment has fired."""
    return int(max(0.0, interval_ms) * (1 + COARSE_SLACK)) + margin_ms


class Sentinel(QObject):
    """Fires once, ``delay_ms`` after it is made (precise timer); ``wait`` runs the event loop until then."""

    def __init__(self, delay_ms: int) -> None:
        super().__init__()
        self.fired = False
        self._delay_ms = max(0, delay_ms)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._on_timeout)
        self._timer.start(self._delay_ms)

    @Slot()
    def _on_timeout(self) -> None:
        self.fired = True

    def wait(self, qtbot: QtBot) -> None:
        qtbot.waitUntil(lambda: self.fired, timeout=self._delay_ms + 5000)

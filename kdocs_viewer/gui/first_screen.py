"""``--quit-after-first-screen``: leave once the first screen is on screen — a smoke test for a packaged app.

The first screen is the main window painted, and when a workbook is on its way (``--demo``, ``--file-token``,
``--pics``) its visible thumbnails painted too (loaded or failed, as the screenshot script waits for them).
That proves the bundle has Qt's platform plugin, the image formats, the translations and, for ``--demo``, the
stand-in, the sign-in and the loaders. Exit status 0 then; 1 with a message on stderr when it does not come
within the timeout.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Slot

from kdocs_viewer.gui.main_window import MainWindow
from kdocs_viewer.gui.picture_grid import PictureGrid

CHECK_EVERY_MS = 100

__all__ = ["FirstScreenWatch"]


class FirstScreenWatch(QObject):
    """Quits the application (0) at the first paint after the first screen is ready, or (1) after
    ``timeout`` seconds. Owned by the window; checks a condition ten times a second (a start-up flag only)."""

    def __init__(self, window: MainWindow, *, expect_pictures: bool, timeout: float) -> None:
        super().__init__(window)
        self._window = window
        self._expect_pictures = expect_pictures
        self._timeout = timeout
        self._ready = False
        self._done = False
        self._grid = window.browser.findChild(PictureGrid, "pictureGrid")
        self._check = QTimer(self, interval=CHECK_EVERY_MS)
        self._check.timeout.connect(self._poll)
        self._give_up = QTimer(self, singleShot=True, interval=max(1, int(timeout * 1000)))
        self._give_up.timeout.connect(self._too_late)

    def start(self) -> None:
        self._check.start()
        self._give_up.start()

    def _screen_ready(self) -> bool:
        if not self._window.isVisible():
            return False
        if not self._expect_pictures:
            return True
        stats = self._window.browser.stats()
        if self._grid is None or not stats.pictures:
            return False
        visible, _ = self._grid.visible_rows()
        return len(visible) > 0 and stats.loaded + stats.failed >= min(len(visible), stats.pictures)

    @Slot()
    def _poll(self) -> None:
        if self._ready or not self._screen_ready():
            return
        self._ready = True
        self._check.stop()
        # Quit on the paint that shows it, not merely when the data is there.
        painted = self._grid.viewport() if self._expect_pictures and self._grid is not None else self._window
        painted.installEventFilter(self)
        painted.update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._ready and not self._done and event.type() == QEvent.Type.Paint:
            self._done = True
            self._give_up.stop()
            QTimer.singleShot(0, self._quit_ok)  # after this paint has finished
        return False

    @Slot()
    def _quit_ok(self) -> None:
        QCoreApplication.exit(0)

    @Slot()
    def _too_late(self) -> None:
        if self._done:
            return
        self._done = True
        self._check.stop()
        what = "the first pictures" if self._expect_pictures else "the main window"
        print(
            f"kdocs-viewer: --quit-after-first-screen: {what} did not appear within {self._timeout:g} s",
            file=sys.stderr,
            flush=True,
        )
        QCoreApplication.exit(1)

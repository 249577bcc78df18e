"""Driving the real PictureBrowser in a measured child process (offscreen Qt)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QAbstractItemModel, QEventLoop, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from bench.probes import is_done, visible_indexes
from kdocs_viewer.core.models import PicRef
from kdocs_viewer.gui.browser import PictureBrowser
from kdocs_viewer.gui.browser_warmup import LOADER_MODULE
from kdocs_viewer.gui.picture_grid import PictureGrid

WINDOW = (1280, 800)  # a laptop-sized window


def app() -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    return QApplication(["kdocs-viewer-bench"])


def wait_until(predicate: Callable[[], bool], timeout: float, poll_ms: int = 10) -> float | None:
    """Run the event loop until ``predicate()``; the perf_counter time it became true, or None on timeout.

    A QEventLoop with a polling timer (not a processEvents busy loop), so waiting costs the GUI thread
    almost nothing and the workers get the CPU.
    """
    if predicate():
        return time.perf_counter()
    loop = QEventLoop()
    when: list[float] = []

    def check() -> None:
        if predicate():
            when.append(time.perf_counter())
            loop.quit()

    poll = QTimer()
    poll.setInterval(poll_ms)
    poll.timeout.connect(check)
    give_up = QTimer()
    give_up.setSingleShot(True)
    give_up.timeout.connect(loop.quit)
    poll.start()
    give_up.start(int(timeout * 1000))
    loop.exec()
    poll.stop()
    give_up.stop()
    return when[0] if when else None


def wait_for_model(model: QAbstractItemModel, predicate: Callable[[], bool], timeout: float) -> float | None:
    """Like ``wait_until``, but ``predicate`` runs only after the model emitted ``dataChanged`` (and once
    at the start): a 10 ms poll of a Python flag costs the GUI thread next to nothing."""
    changed = [True]

    def mark(*_: object) -> None:
        changed[0] = True

    def check() -> bool:
        if not changed[0]:
            return False
        changed[0] = False
        return predicate()

    model.dataChanged.connect(mark)
    try:
        return wait_until(check, timeout)
    finally:
        model.dataChanged.disconnect(mark)


def pause(seconds: float) -> None:
    """Let the event loop run for a while (loading continues)."""
    QTest.qWait(int(seconds * 1000))


class BrowserRun:
    """A shown PictureBrowser on a fresh client; ``start()`` hands it the pictures.

    Made as the app makes its window: shown first, the network stack (httpx) imported after the first paint
    (the browser's warm-up imports it on a thread; the client here joins that import).
    ``idle``: wait until the window is up and idle before returning — a user picks a workbook in such a
    window, by when the warm-up has also imported the loader. Not for opening at launch (``reopen``).
    """

    def __init__(self, params: dict[str, Any], refs: list[PicRef], *, idle: bool = True) -> None:
        self.app = app()
        self.refs = refs
        self.file_token: str = params["file_token"]
        self.browser = PictureBrowser()
        self.browser.resize(*WINDOW)
        self.browser.show()
        QTest.qWaitForWindowExposed(self.browser)
        if idle and wait_until(lambda: LOADER_MODULE in sys.modules, 10.0) is None:
            raise RuntimeError("the browser's warm-up did not import the loader within 10 s")
        from kdocs_viewer.core.api import KDocsClient

        self.client = KDocsClient(params["token"], params["base_url"])
        view = self.browser.findChild(PictureGrid, "pictureGrid")
        assert view is not None
        self.view = view

    def start(self) -> None:
        self.browser.start(self.client, self.file_token, self.refs)

    def wait_screen_done(self, timeout: float) -> float | None:
        """Wait until every tile on screen is done; the time it happened, or None on timeout.

        Cheap on the GUI thread (it is measured too): the on-screen tiles are found once, then only their
        data is read, and only after the model reported a change.
        """
        deadline = time.perf_counter() + timeout
        if wait_until(lambda: bool(visible_indexes(self.view, fully=False)), timeout) is None:
            return None
        shown = visible_indexes(self.view, fully=False)
        return wait_for_model(self.view.model(), lambda: all(is_done(i) for i in shown),
                              max(0.0, deadline - time.perf_counter()))

    def close(self) -> None:
        self.browser.shutdown()
        self.browser.close()
        self.browser.deleteLater()
        self.client.close()

"""The browser's warm-up: what ``start()`` would pay at the first Load, paid while the window sits idle.

``core.warmup`` imports the Qt-free modules on a daemon thread, so the GUI thread never waits for them, and
nudges the GUI thread to import the loader on top of them, and load the image plugins the loader will use:
a module with Qt classes is never imported off the GUI thread, nor a plugin loaded.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from kdocs_viewer.core.warmup import warm_up

__all__ = ["LOADER_MODULE", "BrowserWarmUp"]

# What start() needs on top of core.warmup.FIRST_LOAD_MODULES: imported on the GUI thread after the first
# paint, or by start() itself if it comes first.
LOADER_MODULE = "kdocs_viewer.gui.thumbnails"


class BrowserWarmUp(QObject):
    """Lives in the GUI thread: the warm-up thread emits ``_loaded``, the loader is imported here (queued)."""

    _loaded = Signal()

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._closed = False
        self._loaded.connect(self._import_loader)

    def start(self, first_widget: Callable[[], None]) -> None:
        """``first_widget``: PySide's first QWidget wrapper (``PictureGrid.warm_up``), made on this thread."""
        if self._closed:
            return
        first_widget()
        if LOADER_MODULE not in sys.modules:
            self._thread = warm_up(then=self._network_imported)

    def _network_imported(self) -> None:
        """Warm-up thread: a queued nudge to the GUI thread."""
        with contextlib.suppress(RuntimeError):  # the browser was deleted meanwhile
            self._loaded.emit()

    @Slot()
    def _import_loader(self) -> None:
        if self._closed:
            return
        importlib.import_module(LOADER_MODULE)
        from kdocs_viewer.gui.decode import load_reader_plugins
        from kdocs_viewer.gui.tile_store import load_tile_codecs

        load_reader_plugins()  # and the codecs of the disk cache of tiles: each once per process
        load_tile_codecs()

    def close(self) -> None:
        """No loader import from now on; waits for the import thread (it cannot be cancelled; it takes a
        fraction of a second)."""
        self._closed = True
        if self._thread is not None:
            self._thread.join(10.0)
            self._thread = None

"""The View menu's two actions for the disk cache of tiles: keep thumbnails between sessions (a remembered
setting), and clear them now. The main window only adds ``actions()`` to its menu."""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow

from kdocs_viewer.gui import settings as S
from kdocs_viewer.gui.browser import PictureBrowser
from kdocs_viewer.gui.settings import AppSettings

__all__ = ["ThumbnailCacheActions"]

MESSAGE_MS = 5000


class ThumbnailCacheActions(QObject):
    """Owns ``use_action`` (checkable, ``settings.THUMBNAIL_CACHE``) and ``clear_action``."""

    def __init__(self, browser: PictureBrowser, settings: AppSettings, window: QMainWindow) -> None:
        super().__init__(window)
        self._browser = browser
        self._settings = settings
        self._window = window
        self.use_action = QAction(self.tr("Keep &thumbnails between sessions"), window)
        self.use_action.setObjectName("useThumbnailCache")
        self.use_action.setCheckable(True)
        self.clear_action = QAction(self.tr("Clear thumbnail &cache"), window)
        self.clear_action.setObjectName("clearThumbnailCache")
        on = settings.get(S.THUMBNAIL_CACHE)
        self.use_action.setChecked(on)
        browser.set_thumbnail_cache_enabled(on)
        self.use_action.toggled.connect(self._on_toggled)
        self.clear_action.triggered.connect(self._on_clear)
        browser.thumbnailCacheCleared.connect(self._on_cleared)

    def actions(self) -> list[QAction]:
        return [self.use_action, self.clear_action]

    @Slot(bool)
    def _on_toggled(self, on: bool) -> None:
        self._browser.set_thumbnail_cache_enabled(on)
        self._settings.set(S.THUMBNAIL_CACHE, bool(on))

    @Slot()
    def _on_clear(self) -> None:
        self.clear_action.setEnabled(False)  # until this clear is done
        self._browser.clear_thumbnail_cache()

    @Slot(int)
    def _on_cleared(self, removed: int) -> None:
        self.clear_action.setEnabled(True)
        text = self.tr("Thumbnail cache cleared (%1 thumbnails removed).").replace("%1", str(removed))
        self._window.statusBar().showMessage(text, MESSAGE_MS)

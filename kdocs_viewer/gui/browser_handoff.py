"""``BrowserHandoff``: pictures leaving the grid whole — the preview window, a copy to the clipboard, a drag
as files.

Each needs the whole picture, not its tile: the preview and the copy ask the thumbnail loader for it
(``request_full``, fetched and decoded by its workers), a drag asks the ``DragExporter`` for files. The
browser attaches the loader and exporter of each session and detaches them before tearing it down.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, QModelIndex, QObject, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from kdocs_viewer.core.models import Ident, PicRef
from kdocs_viewer.core.redact import redact
from kdocs_viewer.gui.drag_export import MAX_DRAG_PICTURES, DragExporter
from kdocs_viewer.gui.picture_filter import PictureFilterProxy
from kdocs_viewer.gui.picture_grid import PictureGrid
from kdocs_viewer.gui.picture_model import ItemRole, PictureItem

if TYPE_CHECKING:
    from kdocs_viewer.gui.preview import PreviewDialog
    from kdocs_viewer.gui.thumbnails import FullImage, ThumbnailLoader


class BrowserHandoff(QObject):
    """Preview, copy and drag for one ``PictureBrowser``; see the module docstring."""

    errorOccurred = Signal(str)  # human, already-redacted
    noted = Signal(str)  # "Picture copied"
    saveRequested = Signal(object)  # list[PicRef]: the preview's Save…
    previewChanged = Signal(object)  # PicRef | None: the picture the preview shows now

    def __init__(self, browser: QWidget, grid: PictureGrid, proxy: PictureFilterProxy) -> None:
        super().__init__(browser)
        self._browser = browser  # the preview's parent
        self._grid = grid
        self._proxy = proxy
        self._loader: ThumbnailLoader | None = None
        self._exporter: DragExporter | None = None
        self._preview: PreviewDialog | None = None
        self._copy_request = 0

    def attach(self, loader: ThumbnailLoader, exporter: DragExporter) -> None:
        """The new session's loader and exporter."""
        self._loader = loader
        self._exporter = exporter
        loader.fullImageReady.connect(self._on_full_image)

    def detach(self) -> None:
        """Close the preview and forget the session's workers (the browser shuts them down)."""
        if self._preview is not None:
            self._preview.detach()
            self._preview.close()
            self._preview.deleteLater()
            self._preview = None
        self._loader = None
        self._exporter = None
        self._copy_request = 0

    def after_reorder(self, row_of: Callable[[Ident], int]) -> None:
        """The rows moved (filter, sort): tell a shown preview where its picture is now (-1: hidden)."""
        if self._preview is not None and self._preview.isVisible():
            ref = self._preview.current_ref()
            self._preview.row_moved(row_of(ref.ident) if ref is not None else -1)

    @Slot(QModelIndex)
    def open_preview(self, index: QModelIndex) -> None:
        if self._loader is None or not index.isValid():
            return
        if self._preview is None:
            from kdocs_viewer.gui.preview import PreviewDialog

            self._preview = PreviewDialog(self._proxy, self._loader, self._browser)
            self._preview.currentChanged.connect(self.previewChanged)
            self._preview.saveRequested.connect(self.saveRequested)
            self._preview.noted.connect(self.noted)
            self._grid.ticked.connect(self._preview.tick)
        was_visible = self._preview.isVisible()
        self._preview.show_row(index.row())
        self._preview.show()
        # Headless platforms (offscreen, minimal) cannot raise windows and say so as a warning.
        if was_visible and QGuiApplication.platformName() not in ("offscreen", "minimal"):
            self._preview.raise_()
            self._preview.activateWindow()

    @Slot()
    def copy_current(self) -> None:
        index = self._grid.currentIndex()
        if self._loader is None or not index.isValid():
            return
        item = index.data(ItemRole)
        if isinstance(item, PictureItem):
            self._copy_request = self._loader.request_full(item.ref)

    @Slot(object)
    def _on_full_image(self, full: FullImage) -> None:
        if full.request_id != self._copy_request:
            return
        self._copy_request = 0
        if full.image is None:
            self.errorOccurred.emit(
                self.tr("Could not copy the picture: %1").replace("%1", redact(full.error))
            )
            return
        QGuiApplication.clipboard().setImage(full.image)
        self.noted.emit(self.tr("Picture copied"))

    def drag_mime(self, refs: list[PicRef]) -> QMimeData | None:
        """``refs`` as files for a drag (written off the GUI thread), or None with a message."""
        if self._exporter is None or not refs:
            return None
        if len(refs) > MAX_DRAG_PICTURES:
            self.errorOccurred.emit(
                self.tr("Drag at most %1 pictures at a time; use “Save” for more.").replace(
                    "%1", str(MAX_DRAG_PICTURES)
                )
            )
            return None
        mime = self._exporter.mime_for(refs)
        if mime is None:
            reason = self._exporter.last_error() or self.tr("unknown error")
            self.errorOccurred.emit(self.tr("Could not prepare the files to drag: %1").replace("%1", reason))
        return mime

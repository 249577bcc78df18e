"""The tiles' context menu: Preview, Save…, Copy image, Copy cell address, Copy key.

The browser makes the right-clicked tile current (and selects it alone when it was not selected, as file
managers do) before ``popup`` runs, so "the clicked tile" is the current picture and "the selection" always
includes it. Preview and Copy image act on the clicked tile; Save… and the two text copies on the selection.
Text goes to the clipboard at once (no I/O); each copy says so in the status bar (``note``).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPoint, Signal, Slot
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QMenu, QWidget

from kdocs_viewer.gui.browser import PictureBrowser
from kdocs_viewer.gui.save_controller import SaveController

__all__ = ["TileMenu"]


class TileMenu(QObject):
    """Owns the menu (object name ``tileMenu``) and its actions (``tileMenuPreview``, ``tileMenuSave``,
    ``tileMenuCopyImage``, ``tileMenuCopyCell``, ``tileMenuCopyKey``)."""

    note = Signal(str)

    def __init__(self, browser: PictureBrowser, saver: SaveController, parent: QWidget) -> None:
        super().__init__(parent)
        self._browser = browser
        self.menu = QMenu(parent)
        self.menu.setObjectName("tileMenu")
        self.preview_action = self._add("tileMenuPreview", self.tr("Preview"), browser.preview_current)
        self.menu.addSeparator()
        self.save_action = self._add("tileMenuSave", self.tr("Save…"), saver.save_selected)
        self.menu.addSeparator()
        self.copy_image_action = self._add(
            "tileMenuCopyImage", self.tr("Copy image"), browser.copy_current_picture
        )
        self.copy_cell_action = self._add("tileMenuCopyCell", self.tr("Copy cell address"), self.copy_cells)
        self.copy_key_action = self._add("tileMenuCopyKey", self.tr("Copy key"), self.copy_keys)

    def _add(self, name: str, text: str, slot: object) -> QAction:
        action = QAction(text, self.menu)
        action.setObjectName(name)
        action.triggered.connect(slot)
        self.menu.addAction(action)
        return action

    @Slot(QPoint)
    def popup(self, global_pos: QPoint) -> None:
        refs = self._browser.selected_refs()
        count = len(refs)
        self.save_action.setText(
            self.tr("Save %1 pictures…").replace("%1", str(count)) if count > 1 else self.tr("Save…")
        )
        self.copy_cell_action.setEnabled(any(ref.cell for ref in refs))
        self.menu.popup(global_pos)

    @Slot()
    def copy_cells(self) -> None:
        """The selected pictures' cells (e.g. ``Sheet1!B3``), one per line, in workbook order."""
        cells = [ref.cell for ref in self._browser.selected_refs() if ref.cell]
        if cells:
            self._copy_text(cells, self.tr("Cell address copied"), self.tr("%1 cell addresses copied"))

    @Slot()
    def copy_keys(self) -> None:
        """The selected pictures' keys, one per line, in workbook order."""
        keys = [ref.pic_key for ref in self._browser.selected_refs()]
        if keys:
            self._copy_text(keys, self.tr("Key copied"), self.tr("%1 keys copied"))

    def _copy_text(self, lines: list[str], one: str, many: str) -> None:
        QGuiApplication.clipboard().setText("\n".join(lines))
        self.note.emit(one if len(lines) == 1 else many.replace("%1", str(len(lines))))

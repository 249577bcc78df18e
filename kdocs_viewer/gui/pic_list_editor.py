"""The pic list editor: plain text in a fixed-width font, with the two things a text box does not do.

A dropped *file* is read (``fileDropped``), not pasted as its URL; a paste too big to edit becomes a summary
(``largeTextPasted``, see ``pic_input``). ``jump_to_line`` shows a bad line without selecting it, so the next
keystroke cannot wipe it; the highlight goes with the next edit.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, Signal, Slot
from PySide6.QtGui import QTextCursor, QTextFormat
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QWidget

from kdocs_viewer.gui import theme
from kdocs_viewer.gui.pic_input import SUMMARY_ABOVE_CHARS

__all__ = ["PicListEditor", "local_file"]


def local_file(mime: QMimeData) -> Path | None:
    """The single local file a drag carries, if that is what it carries."""
    if not mime.hasUrls():
        return None
    files = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
    return Path(files[0]) if len(files) == 1 else None


class PicListEditor(QPlainTextEdit):
    """The pic list text; see the module docstring."""

    fileDropped = Signal(str)
    largeTextPasted = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("picListEditor")
        self.setPlaceholderText(
            self.tr(
                'Paste a pic list: the API\'s JSON body {"pics": [...]}, a cells response, CSV/TSV '
                '(pic_key,tag) or one "pic_key tag" per line. Or drop a file here.'
            )
        )
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        fixed = self.font()
        fixed.setStyleHint(fixed.StyleHint.Monospace)
        fixed.setFamily("monospace")
        self.setFont(fixed)
        self.textChanged.connect(self._clear_error_highlight)

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return local_file(source) is not None or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        path = local_file(source)
        if path is not None:
            self.fileDropped.emit(str(path))
            return
        if source.hasText() and len(text := source.text()) > SUMMARY_ABOVE_CHARS:
            self.largeTextPasted.emit(text)
            return
        super().insertFromMimeData(source)

    def replace_text(self, text: str) -> None:
        """Replace everything as one undoable edit (Ctrl+Z brings the previous text back)."""
        cursor = self.textCursor()
        cursor.beginEditBlock()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(text)
        cursor.endEditBlock()
        cursor.movePosition(QTextCursor.MoveOperation.Start)
        self.setTextCursor(cursor)

    def jump_to_line(self, line: int) -> None:
        """Put the cursor at the start of ``line`` (1-based) and highlight it, without selecting text."""
        block = self.document().findBlockByNumber(max(0, line - 1))
        if not block.isValid():
            return
        cursor = QTextCursor(block)
        self.setTextCursor(cursor)
        self.centerCursor()
        highlight = QTextEdit.ExtraSelection()
        highlight.format.setBackground(theme.error_line_colour(self.palette()))
        highlight.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
        highlight.cursor = QTextCursor(block)
        self.setExtraSelections([highlight])
        self.setFocus()

    @Slot()
    def _clear_error_highlight(self) -> None:
        if self.extraSelections():
            self.setExtraSelections([])

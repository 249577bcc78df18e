"""Pic lists too big for the editor, and lists big enough to ask about before they cost API calls.

A text editor is the wrong tool for a 10 MB list: ``QPlainTextEdit`` lays a line out whole, so a list saved
on one line (minified JSON) costs ~0.15 s per keystroke at 1 MB and ~1.7 s at 10 MB, and past ~4 million
characters the line is wider than Qt's fixed-point text coordinates can hold and is drawn garbled. Lists
longer than ``SUMMARY_ABOVE_CHARS`` are therefore parsed on a worker and shown as a read-only summary
(``PicListSummary``); Load uses the parsed list. A 1 MB list is ~13,000 pictures in the dump shape, more
than anyone types, and multi-line lists of that size edit fine, so nothing a person edits by hand is taken
away from the editor.

The functions here that prepare text run on a worker: they parse, they never touch a widget.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMessageBox, QPushButton, QVBoxLayout, QWidget

from kdocs_viewer.core.contract import QUOTA_TEST_APP
from kdocs_viewer.core.units import format_size

if TYPE_CHECKING:  # the parser loads after the first paint
    from kdocs_viewer.core.models import PicRef
    from kdocs_viewer.core.piclist import ParseResult

__all__ = [
    "SUMMARY_ABOVE_CHARS",
    "BigPicList",
    "LargeListQuestion",
    "PicListSummary",
    "prepare_found",
    "prepare_text",
]

SUMMARY_ABOVE_CHARS = 1_000_000


@dataclass(frozen=True)
class BigPicList:
    """A parsed pic list kept out of the editor: what it is called, how big its text was, its pictures."""

    source: str  # the file name, or what the list is ("Pasted pic list")
    size: int  # bytes of its text as UTF-8
    result: ParseResult

    @property
    def count(self) -> int:
        return len(self.result.pics)


def prepare_text(text: str, source: str) -> str | BigPicList:
    """On a worker: ``text`` itself when the editor can hold it, else the list parsed (or PicListError)."""
    if len(text) <= SUMMARY_ABOVE_CHARS:
        return text
    from kdocs_viewer.core.piclist import parse_pic_list

    return BigPicList(source, len(text.encode("utf-8")), parse_pic_list(text))


def prepare_found(refs: Iterable[PicRef], source: str) -> str | BigPicList:
    """On a worker: the workbook's pictures as editor text, or parsed like any big list (one rule)."""
    from kdocs_viewer.core.piclist import dump_pic_list

    return prepare_text(dump_pic_list(refs), source)


class PicListSummary(QFrame):
    """Stands in for the editor while a big list is in use: "pics.json — 200,000 pictures, 12.3 MB",
    read-only, with Clear (back to the editor and its own text) and Open another."""

    clearRequested = Signal()
    replaceRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("picListSummary")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        self.title_label = QLabel(self)
        self.title_label.setObjectName("picListSummaryTitle")
        self.title_label.setWordWrap(True)
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.title_label.font()
        font.setBold(True)
        self.title_label.setFont(font)
        layout.addWidget(self.title_label)
        note = QLabel(
            self.tr("Too big to edit here: Load uses this list as it was read. Edit the file elsewhere."),
            self,
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        self.clear_button = QPushButton(self.tr("Clear"), self)
        self.clear_button.setObjectName("clearBigList")
        self.clear_button.setToolTip(self.tr("Drop this list and go back to the text you had"))
        self.replace_button = QPushButton(self.tr("Open another…"), self)
        self.replace_button.setObjectName("replaceBigList")
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.replace_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.clear_button.clicked.connect(self.clearRequested)
        self.replace_button.clicked.connect(self.replaceRequested)

    def show_list(self, big: BigPicList) -> None:
        self.title_label.setText(
            self.tr("%1 — %2 pictures, %3")
            .replace("%1", big.source)
            .replace("%2", f"{big.count:,}")
            .replace("%3", format_size(big.size))
        )

    def text(self) -> str:
        return self.title_label.text()


class LargeListQuestion(QMessageBox):
    """Asks "load 200,000 pictures, about 2,000 API calls?"; Cancel is the default (and Esc) answer."""

    def __init__(self, pictures: int, calls: int, limit: int | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("largeListQuestion")
        self.setIcon(QMessageBox.Icon.Question)
        self.setWindowTitle(self.tr("Load a large pic list?"))
        self.setText(
            self.tr("This list has %1 pictures. Getting their links takes about %2 API calls.")
            .replace("%1", f"{pictures:,}")
            .replace("%2", f"{calls:,}")
        )
        if limit is not None:
            quota = self.tr("The server allows %1 API calls a day.").replace("%1", f"{limit:,}")
        else:
            quota = self.tr("A KDocs test app may make %1 API calls a day.").replace(
                "%1", f"{QUOTA_TEST_APP:,}"
            )
        self.setInformativeText(quota)
        self.load_button = self.addButton(self.tr("Load all"), QMessageBox.ButtonRole.AcceptRole)
        self.cancel_button = self.addButton(QMessageBox.StandardButton.Cancel)
        self.setDefaultButton(self.cancel_button)
        self.setEscapeButton(self.cancel_button)

    def accepted_load(self) -> bool:
        return self.clickedButton() is self.load_button

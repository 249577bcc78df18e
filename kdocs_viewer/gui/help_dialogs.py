"""Help → Keyboard shortcuts and Help → Read me.

The shortcuts list is built from the window's real QActions (their menu, text and shortcuts) at the moment it
opens, so it cannot drift from what the keys do. The README is the one this installation carries: the package
metadata's long description (every wheel and sdist has it), else the README.md next to a source checkout.
No web address is guessed; a link in the README opens in the browser.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMenu,
    QMenuBar,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

__all__ = ["ReadmeDialog", "ShortcutsDialog", "menu_shortcuts", "readme_text"]

DISTRIBUTION = "kdocs-viewer"


def _plain(text: str) -> str:
    """A menu text without its mnemonic marker ("&Save selected…" → "Save selected…")."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def _keys(action: QAction) -> str:
    native = QKeySequence.SequenceFormat.NativeText
    return ", ".join(seq.toString(native) for seq in action.shortcuts() if not seq.isEmpty())


def menu_shortcuts(menu_bar: QMenuBar) -> list[tuple[str, str, str]]:
    """(menu, action, keys) for every action in the menus that has a shortcut, in menu order."""
    rows: list[tuple[str, str, str]] = []

    def walk(menu: QMenu, title: str) -> None:
        for action in menu.actions():
            sub = action.menu()
            if isinstance(sub, QMenu):
                walk(sub, f"{title} › {_plain(sub.title())}")
            elif not action.isSeparator() and _keys(action):
                rows.append((title, _plain(action.text()), _keys(action)))

    for top in menu_bar.actions():
        menu = top.menu()
        if isinstance(menu, QMenu):
            walk(menu, _plain(menu.title()))
    return rows


class ShortcutsDialog(QDialog):
    """A table of (where, what, keys); object name ``shortcutsDialog``, table ``shortcutsTable``."""

    def __init__(self, rows: Sequence[tuple[str, str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle(self.tr("Keyboard shortcuts"))
        self.resize(520, 480)
        self.table = QTableWidget(len(rows), 3, self)
        self.table.setObjectName("shortcutsTable")
        self.table.setHorizontalHeaderLabels([self.tr("Where"), self.tr("Action"), self.tr("Keys")])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)

    def rows(self) -> list[tuple[str, str, str]]:
        table = self.table

        def text(row: int, column: int) -> str:
            item = table.item(row, column)
            return item.text() if item is not None else ""

        return [(text(r, 0), text(r, 1), text(r, 2)) for r in range(table.rowCount())]


def readme_text() -> str | None:
    """The README in Markdown, or None when this installation has none (e.g. a bundle without metadata)."""
    try:
        metadata = importlib.metadata.distribution(DISTRIBUTION).read_text("METADATA") or ""
    except importlib.metadata.PackageNotFoundError:
        metadata = ""
    _headers, _blank, body = metadata.partition("\n\n")  # core metadata: headers, a blank line, the README
    if body.strip():
        return body
    checkout = Path(__file__).resolve().parents[2] / "README.md"
    try:
        return checkout.read_text(encoding="utf-8")
    except OSError:
        return None


class ReadmeDialog(QDialog):
    """The README rendered from Markdown (object name ``readmeDialog``); links open in the web browser."""

    def __init__(self, markdown: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("readmeDialog")
        self.setWindowTitle(self.tr("Read me"))
        self.resize(760, 640)
        self.browser = QTextBrowser(self)
        self.browser.setObjectName("readmeText")
        self.browser.setOpenExternalLinks(True)
        self.browser.setMarkdown(markdown)
        self.browser.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)

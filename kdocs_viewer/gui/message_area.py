"""The message area under the input: one message at a time, coloured by its kind."""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from kdocs_viewer.gui import theme

__all__ = ["MessageArea"]


class MessageArea(QLabel):
    """One message for the user about the input: info, warning or error, with a matching colour.

    The kind is also the widget's ``kind`` property (empty when nothing is shown). ``name`` is its object
    name (a dialog's own area must not be taken for the window's).
    """

    KINDS: ClassVar[frozenset[str]] = frozenset({"info", "warning", "error"})

    def __init__(self, parent: QWidget | None = None, *, name: str = "messageArea") -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setProperty("kind", "")
        self.hide()

    def kind(self) -> str:
        return str(self.property("kind") or "")

    def show_message(self, kind: str, text: str) -> None:
        self.setProperty("kind", kind)
        self.setText(text)
        style = theme.banner_style(kind, theme.palette_of(self)) if kind in self.KINDS else ""
        self.setStyleSheet(f"QLabel#{self.objectName()} {{ {style} padding: 6px; }}")
        self.setVisible(bool(text))

    def show_notice(self, kind: str, text: str) -> None:
        """A message about something else (the keyring) that arrives in its own time: it never hides an error
        about the input (a bad ``--pics`` file at start-up) but is added below it; otherwise it replaces."""
        if self.kind() == "error" and self.text():
            self.setText(f"{self.text()}\n\n{text}")
        else:
            self.show_message(kind, text)

    def clear_message(self) -> None:
        self.setProperty("kind", "")
        self.clear()
        self.hide()

"""A one-line label that may be narrower than its text: it then shows the start of the text and "…".

Plain ``QLabel``s ask for their whole text as their minimum width, so a row of them (the status bar, the
workbook bar) kept a narrow window from getting narrower, and where the window manager forced it anyway they
were painted over each other. These ask for a few characters and elide the rest; the full text stays in
``text()`` (and in the tooltip while it is cut).
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

__all__ = ["ElidingLabel"]

MIN_CHARS = 4  # the shortest a label gets: three characters and "…"


class ElidingLabel(QLabel):
    """Shows as much of its one-line text as fits, ending in "…" when cut (the tooltip then shows it all,
    unless a tooltip of its own was set)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self._auto_tip = False

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        margins = self.contentsMargins()
        extra = margins.left() + margins.right() + 2 * self.margin()
        shortest = self.fontMetrics().horizontalAdvance("M" * (MIN_CHARS - 1) + "…") + extra
        return QSize(min(hint.width(), shortest), hint.height())

    def is_elided(self) -> bool:
        return self.fontMetrics().horizontalAdvance(self.text()) > self._text_width()

    def _text_width(self) -> int:
        return max(0, self.contentsRect().width() - 2 * self.margin())

    def setToolTip(self, tip: str) -> None:
        self._auto_tip = False
        super().setToolTip(tip)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_tip()

    def setText(self, text: str) -> None:
        super().setText(text)
        self._update_tip()

    def _update_tip(self) -> None:
        if self.toolTip() and not self._auto_tip:
            return  # a tooltip of its own says more than the cut text
        self._auto_tip = True
        super().setToolTip(self.text() if self.is_elided() else "")

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self.is_elided():
            super().paintEvent(event)
            return
        rect = self.contentsRect().adjusted(self.margin(), self.margin(), -self.margin(), -self.margin())
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter = QPainter(self)
        enabled, role = self.isEnabled(), self.foregroundRole()
        self.style().drawItemText(painter, rect, int(self.alignment()), self.palette(), enabled, text, role)

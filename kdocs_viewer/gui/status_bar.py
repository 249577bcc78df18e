"""The window's status bar: picture counts, the selection, today's API calls, and where the token comes from.

It only shows what it is given; the token button says where the token comes from (never the token) and
emits ``tokenClicked``.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QStatusBar, QToolButton, QWidget

from kdocs_viewer.gui.api_usage import ApiCallsLabel
from kdocs_viewer.gui.browser import BrowserStats

__all__ = ["StatusBar"]


class StatusBar(QStatusBar):
    tokenClicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.counts_label = QLabel(self)
        self.counts_label.setObjectName("countsLabel")
        self.selection_label = QLabel(self)
        self.selection_label.setObjectName("selectionLabel")
        self.api_label = ApiCallsLabel(self)
        self.token_button = QToolButton(self)
        self.token_button.setObjectName("tokenStatus")
        self.token_button.setAutoRaise(True)
        self.token_button.clicked.connect(self.tokenClicked)
        self.addPermanentWidget(self.counts_label)
        self.addPermanentWidget(self.selection_label)
        self.addPermanentWidget(self.api_label)
        self.addPermanentWidget(self.token_button)

    def show_stats(self, stats: BrowserStats) -> None:
        self.counts_label.setText(
            self.tr("Pictures: %1 · loaded: %2 · failed: %3 · expiring soon: %4")
            .replace("%1", str(stats.pictures))
            .replace("%2", str(stats.loaded))
            .replace("%3", str(stats.failed))
            .replace("%4", str(stats.expiring_soon))
        )

    def show_selection(self, count: int) -> None:
        self.selection_label.setText(self.tr("Selected: %1").replace("%1", str(count)))

    def show_usage(self, calls: int, limit: int | None) -> None:
        self.api_label.show_usage(calls, limit)

    def show_token(self, text: str, tooltip: str) -> None:
        self.token_button.setText(text)
        self.token_button.setToolTip(tooltip)

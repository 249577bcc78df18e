"""The window's status bar: picture counts, the selection, today's API calls, where the token comes from, and
who is signed in.

It only shows what it is given; the token button says where the token comes from (never the token) and
emits ``tokenClicked``; the account part shows "Signed in as …" with a Sign out button (``signOutClicked``),
or a Sign in button (``signInClicked``).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QStatusBar, QToolButton, QWidget

from kdocs_viewer.gui.api_usage import ApiCallsLabel
from kdocs_viewer.gui.browser_stats import BrowserStats
from kdocs_viewer.gui.eliding_label import ElidingLabel

__all__ = ["StatusBar"]


class StatusBar(QStatusBar):
    tokenClicked = Signal()
    signInClicked = Signal()
    signOutClicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Labels elide rather than overlap or hold a narrow window wide; the counts give way first.
        self.counts_label = ElidingLabel(parent=self)
        self.counts_label.setObjectName("countsLabel")
        self.selection_label = QLabel(self)  # short: "Selected: 12"
        self.selection_label.setObjectName("selectionLabel")
        self.api_label = ApiCallsLabel(self)
        self.token_button = QToolButton(self)
        self.token_button.setObjectName("tokenStatus")
        self.token_button.setAutoRaise(True)
        self.token_button.clicked.connect(self.tokenClicked)
        self.account_label = ElidingLabel(parent=self)
        self.account_label.setObjectName("accountLabel")
        self.sign_out_button = QToolButton(self)
        self.sign_out_button.setObjectName("signOutButton")
        self.sign_out_button.setText(self.tr("Sign out"))
        self.sign_out_button.clicked.connect(self.signOutClicked)
        self.sign_in_button = QToolButton(self)
        self.sign_in_button.setObjectName("signInStatusButton")
        self.sign_in_button.setText(self.tr("Sign in…"))
        self.sign_in_button.clicked.connect(self.signInClicked)
        self.addPermanentWidget(self.counts_label, 1)
        self.addPermanentWidget(self.selection_label)
        self.addPermanentWidget(self.api_label)
        self.addPermanentWidget(self.token_button)
        self.addPermanentWidget(self.account_label)
        self.addPermanentWidget(self.sign_out_button)
        self.addPermanentWidget(self.sign_in_button)
        self.show_account(None, "")

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

    def show_account(self, name: str | None, tooltip: str) -> None:
        """``name`` of the signed-in user ("" when not known yet), or None when nobody is signed in."""
        signed_in = name is not None
        text = self.tr("Signed in as %1").replace("%1", name) if name else self.tr("Signed in")
        self.account_label.setText(text if signed_in else "")
        self.account_label.setToolTip(tooltip if signed_in else "")
        self.account_label.setVisible(signed_in)
        self.sign_out_button.setVisible(signed_in)
        self.sign_in_button.setVisible(not signed_in)
        self.sign_in_button.setToolTip(tooltip if not signed_in else "")

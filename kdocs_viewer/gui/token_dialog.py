"""The dialog that sets, replaces or forgets the access token.

The token is typed into a password field (shown only on request), never pre-filled, and never placed in a
title, tooltip or label. The dialog only *collects* the user's choice; storing it (in the keyring, off the GUI
thread) is ``TokenController``'s job, so the dialog never blocks on a keyring.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kdocs_viewer.gui import theme

__all__ = ["TokenChoice", "TokenDialog"]


@dataclass(frozen=True)
class TokenChoice:
    """What the user decided: ``action`` is "set" (with ``token``) or "forget"."""

    action: str
    token: str = field(default="", repr=False)
    remember: bool = False


class TokenDialog(QDialog):
    """Ask for an access token. ``keyring_usable=False`` disables "Remember" and says why."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        base_url: str = "",
        backend: str = "",
        keyring_usable: bool = True,
        has_token: bool = False,
        remember: bool = True,
        reason: str = "",
        demo: bool = False,
        checking: bool = True,
    ) -> None:
        super().__init__(parent)
        self._action = "set"
        self.setWindowTitle(self.tr("Access token"))
        self.setMinimumWidth(460)

        layout = QVBoxLayout(self)
        if reason:
            self.reason_label = QLabel(reason)
            self.reason_label.setWordWrap(True)
            self.reason_label.setObjectName("tokenReason")
            self.reason_label.setStyleSheet(f"QLabel#tokenReason {{ {theme.reason_banner_style(self)} }}")
            layout.addWidget(self.reason_label)

        intro = QLabel(
            self.tr(
                "Paste the access token issued for your KDocs app. It is sent only to the API server "
                "and is never written to a settings file or a log."
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        form = QFormLayout()
        self.token_edit = QLineEdit()
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText(self.tr("access token"))
        self.token_edit.setInputMethodHints(
            Qt.InputMethodHint.ImhHiddenText
            | Qt.InputMethodHint.ImhNoPredictiveText
            | Qt.InputMethodHint.ImhSensitiveData
        )
        form.addRow(self.tr("&Token:"), self.token_edit)
        self.show_check = QCheckBox(self.tr("Show the token"))
        form.addRow("", self.show_check)
        if base_url:
            form.addRow(self.tr("Server:"), QLabel(base_url))
        # "checking…" only while a lookup is under way: the demo never asks the keyring, and a signed-in
        # session skips the pasted token's lookup.
        backend_text = backend or (self.tr("checking…") if checking else self.tr("not checked yet"))
        if demo:
            backend_text = self.tr("not used by the demo server")
        elif not keyring_usable:
            backend_text = self.tr("%1 — unavailable").replace("%1", backend or self.tr("keyring"))
        self.backend_label = QLabel(backend_text)
        form.addRow(self.tr("Keyring:"), self.backend_label)
        layout.addLayout(form)

        self.remember_check = QCheckBox(self.tr("&Remember in keyring"))
        if demo:
            self.remember_check.setChecked(False)
            self.remember_check.setEnabled(False)
            self.remember_check.setText(self.tr("Demo server: the token is kept for this session only"))
        elif keyring_usable:
            self.remember_check.setChecked(remember)
        else:
            self.remember_check.setChecked(False)
            self.remember_check.setEnabled(False)
            self.remember_check.setText(self.tr("Keyring unavailable — kept for this session only"))
        layout.addWidget(self.remember_check)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.forget_button = QPushButton(self.tr("&Forget token"))
        self.forget_button.setEnabled(has_token)
        self.buttons.addButton(self.forget_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        layout.addWidget(self.buttons)

        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.forget_button.clicked.connect(self._on_forget)
        self.token_edit.textChanged.connect(self._on_text_changed)
        self.show_check.toggled.connect(self._on_show_toggled)
        self._on_text_changed(self.token_edit.text())
        self.token_edit.setFocus()

    @Slot(str)
    def _on_text_changed(self, text: str) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        if ok is not None:
            ok.setEnabled(bool(text.strip()))

    @Slot(bool)
    def _on_show_toggled(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.token_edit.setEchoMode(mode)

    @Slot()
    def _on_forget(self) -> None:
        self._action = "forget"
        self.accept()

    def choice_for(self, code: int) -> TokenChoice | None:
        """The decision for the dialog's exit ``code``: None when cancelled (or the token is empty)."""
        if code != QDialog.DialogCode.Accepted.value:
            return None
        if self._action == "forget":
            return TokenChoice("forget")
        token = self.token_edit.text().strip()
        if not token:
            return None
        return TokenChoice("set", token, self.remember_check.isEnabled() and self.remember_check.isChecked())

    def ask(self) -> TokenChoice | None:
        """Run the dialog modally and return the decision; the field is cleared afterwards."""
        code = self.exec()
        try:
            return self.choice_for(int(code))
        finally:
            self.token_edit.clear()

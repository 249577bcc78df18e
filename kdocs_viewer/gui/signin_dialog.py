"""The guided "Sign in with KDocs" dialog: what to register in the developer console, the app's APPID and
APPKEY, and — while the browser is out — "Waiting for the browser…" with a field for the address it was
sent to.

The dialog only shows and collects; ``SignInController`` runs the sign-in and tells the dialog what to show
(``show_form``, ``show_waiting``, ``show_error``). It is not modal: the window stays readable behind it, and
nothing here blocks. The APPKEY is typed into a password field and never pre-filled: when the controller
already knows the key of an APPID (a sign-in that expired), the field may be left empty to use it. Nothing
secret is ever passed in a signal: the controller reads ``entered()`` and ``pasted_address()`` when told.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kdocs_viewer.core.auth import SCOPE, redirect_uri_for
from kdocs_viewer.core.contract import DEFAULT_CALLBACK_PORT, DEVELOPER_CONSOLE_URL
from kdocs_viewer.gui import theme
from kdocs_viewer.gui.message_area import MessageArea

__all__ = ["SignInDialog"]

_SECRET_HINTS = (
    Qt.InputMethodHint.ImhHiddenText
    | Qt.InputMethodHint.ImhNoPredictiveText
    | Qt.InputMethodHint.ImhSensitiveData
)


class SignInDialog(QDialog):
    """See the module docstring. Widgets have object names, so tests (and people reading a screenshot)
    find them: ``appId``, ``appKey``, ``callbackPort``, ``signInButton``, ``cancelButton``, …"""

    signInRequested = Signal()  # read entered()
    cancelRequested = Signal()  # stop waiting for the browser (the dialog stays open)
    pasteSubmitted = Signal()  # read pasted_address()
    pasteTokenRequested = Signal()  # "Advanced: paste an access token" instead

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signInDialog")
        self.setWindowTitle(self.tr("Sign in with KDocs"))
        self.setModal(False)
        self.setMinimumWidth(560)
        self._waiting = False
        self._auth_url = ""

        layout = QVBoxLayout(self)
        self.reason_label = QLabel(self)
        self.reason_label.setObjectName("signInReason")
        self.reason_label.setWordWrap(True)
        self.reason_label.setStyleSheet(f"QLabel#signInReason {{ {theme.reason_banner_style(self)} }}")
        self.reason_label.hide()
        layout.addWidget(self.reason_label)

        # Two pages shown one at a time; not a QStackedWidget, whose height follows its tallest page.
        self.form_page = self._build_form()
        self.waiting_page = self._build_waiting()
        layout.addWidget(self.form_page)
        layout.addWidget(self.waiting_page)

        self.message = MessageArea(self, name="signInMessage")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.sign_in_button = QPushButton(self.tr("&Sign in"), self)
        self.sign_in_button.setObjectName("signInButton")
        self.sign_in_button.setDefault(True)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.cancel_button.setObjectName("cancelButton")
        buttons.addWidget(self.sign_in_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)

        self.sign_in_button.clicked.connect(self.signInRequested)
        self.cancel_button.clicked.connect(self._on_cancel)
        self.show_form()

    # ---- construction -------------------------------------------------------------------------------------

    def _build_form(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        heading = QLabel(self.tr("Sign in with KDocs"), page)
        heading.setObjectName("signInHeading")
        font = heading.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        heading.setFont(font)
        layout.addWidget(heading)
        intro = QLabel(
            self.tr(
                "kdocs-viewer reads your spreadsheets through your own KDocs app; it never comes with one. "
                "Set one up once:"
            ),
            page,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        console = self.tr("KDocs developer console")
        link = f'<a href="{DEVELOPER_CONSOLE_URL}">{html.escape(console)}</a>'
        self.console_link = QLabel(self.tr("1. Create an app in the %1.").replace("%1", link), page)
        self.console_link.setObjectName("consoleLink")
        self.console_link.setTextFormat(Qt.TextFormat.RichText)
        self.console_link.setOpenExternalLinks(True)
        self.console_link.setToolTip(DEVELOPER_CONSOLE_URL)
        self.console_link.setWordWrap(True)
        layout.addWidget(self.console_link)
        step2 = QLabel(self.tr("2. Register this callback URL and these scopes for the app:"), page)
        step2.setWordWrap(True)
        layout.addWidget(step2)

        register = QFormLayout()
        self.callback_label = self._copyable(page, "callbackUrl")
        self.copy_callback_button = self._copy_button(page, "copyCallback", self.callback_label)
        callback_row = self._row(page, self.callback_label, self.copy_callback_button)
        register.addRow(self.tr("Callback URL:"), callback_row)
        self.scopes_label = self._copyable(page, "scopes")
        self.scopes_label.setText(SCOPE)
        self.copy_scopes_button = self._copy_button(page, "copyScopes", self.scopes_label)
        register.addRow(self.tr("Scopes:"), self._row(page, self.scopes_label, self.copy_scopes_button))
        layout.addLayout(register)
        step3 = QLabel(
            self.tr(
                "3. Enter the app's APPID and APPKEY and click Sign in: your browser opens and asks you to "
                "allow access."
            ),
            page,
        )
        step3.setWordWrap(True)
        layout.addWidget(step3)

        form = QFormLayout()
        self.app_id_edit = QLineEdit(page)
        self.app_id_edit.setObjectName("appId")
        self.app_id_edit.setPlaceholderText(self.tr("the app's APPID"))
        form.addRow(self.tr("APP&ID:"), self.app_id_edit)
        self.app_key_edit = QLineEdit(page)
        self.app_key_edit.setObjectName("appKey")
        self.app_key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.app_key_edit.setInputMethodHints(_SECRET_HINTS)
        self.app_key_edit.setPlaceholderText(self.tr("the app's APPKEY"))
        form.addRow(self.tr("APP&KEY:"), self.app_key_edit)
        self.show_key_check = QCheckBox(self.tr("Show the APPKEY"), page)
        self.show_key_check.setObjectName("showAppKey")
        self.show_key_check.toggled.connect(self._on_show_key)
        form.addRow("", self.show_key_check)
        layout.addLayout(form)

        self.advanced_toggle = QToolButton(page)
        self.advanced_toggle.setObjectName("advancedToggle")
        self.advanced_toggle.setText(self.tr("Advanced"))
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_toggle.setAutoRaise(True)
        self.advanced_toggle.toggled.connect(self._on_advanced)
        layout.addWidget(self.advanced_toggle)

        self.advanced_box = QWidget(page)
        self.advanced_box.setObjectName("advancedBox")
        advanced = QFormLayout(self.advanced_box)
        self.port_spin = QSpinBox(self.advanced_box)
        self.port_spin.setObjectName("callbackPort")
        self.port_spin.setRange(1, 65535)
        self.port_spin.setValue(DEFAULT_CALLBACK_PORT)
        self.port_spin.valueChanged.connect(self._on_port)
        advanced.addRow(self.tr("Callback &port:"), self.port_spin)
        port_hint = QLabel(
            self.tr("The port of the callback URL registered in the console: change both together."),
            self.advanced_box,
        )
        port_hint.setWordWrap(True)
        advanced.addRow("", port_hint)
        self.paste_token_button = QPushButton(self.tr("Paste an access &token instead…"), self.advanced_box)
        self.paste_token_button.setObjectName("pasteTokenButton")
        self.paste_token_button.clicked.connect(self.pasteTokenRequested)
        advanced.addRow("", self.paste_token_button)
        self.advanced_box.hide()
        layout.addWidget(self.advanced_box)

        self.keyring_label = QLabel(page)
        self.keyring_label.setObjectName("keyringNote")
        self.keyring_label.setWordWrap(True)
        self.keyring_label.hide()
        layout.addWidget(self.keyring_label)
        self._on_port(self.port_spin.value())
        return page

    def _build_waiting(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.waiting_label = QLabel(self.tr("Waiting for the browser…"), page)
        self.waiting_label.setObjectName("waitingLabel")
        font = self.waiting_label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.waiting_label.setFont(font)
        layout.addWidget(self.waiting_label)
        explain = QLabel(
            self.tr(
                "Allow access in the browser window that opened: it comes back to kdocs-viewer by itself."
            ),
            page,
        )
        explain.setWordWrap(True)
        layout.addWidget(explain)
        elsewhere = QLabel(
            self.tr(
                "No browser opened, or it runs on another computer? Open the sign-in address there, "
                "allow access, and paste the address the browser ends up on below (the page itself may not "
                "load)."
            ),
            page,
        )
        elsewhere.setWordWrap(True)
        layout.addWidget(elsewhere)
        self.copy_address_button = QPushButton(self.tr("&Copy the sign-in address"), page)
        self.copy_address_button.setObjectName("copyAddress")
        self.copy_address_button.clicked.connect(self._on_copy_address)
        row = QHBoxLayout()
        row.addWidget(self.copy_address_button)
        row.addStretch(1)
        layout.addLayout(row)
        paste_row = QHBoxLayout()
        self.pasted_edit = QLineEdit(page)
        self.pasted_edit.setObjectName("pastedAddress")
        self.pasted_edit.setInputMethodHints(_SECRET_HINTS)
        self.use_pasted_button = QPushButton(self.tr("&Use this address"), page)
        self.use_pasted_button.setObjectName("usePastedButton")
        self.use_pasted_button.setEnabled(False)
        self.pasted_edit.textChanged.connect(self._on_pasted_changed)
        self.pasted_edit.returnPressed.connect(self._on_use_pasted)
        self.use_pasted_button.clicked.connect(self._on_use_pasted)
        paste_row.addWidget(self.pasted_edit, 1)
        paste_row.addWidget(self.use_pasted_button)
        layout.addLayout(paste_row)
        layout.addStretch(1)
        return page

    def _copyable(self, parent: QWidget, name: str) -> QLabel:
        label = QLabel(parent)
        label.setObjectName(name)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setStyleSheet(f"QLabel#{name} {{ font-family: monospace; }}")
        return label

    def _copy_button(self, parent: QWidget, name: str, source: QLabel) -> QPushButton:
        button = QPushButton(self.tr("Copy"), parent)
        button.setObjectName(name)
        button.setToolTip(self.tr("Copy to the clipboard"))
        button.clicked.connect(lambda: QGuiApplication.clipboard().setText(source.text()))
        return button

    @staticmethod
    def _row(parent: QWidget, *widgets: QWidget) -> QWidget:
        box = QWidget(parent)
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in widgets:
            row.addWidget(widget)
        row.addStretch(1)
        return box

    # ---- what the controller sets -------------------------------------------------------------------------

    def set_reason(self, text: str) -> None:
        """Why the dialog is shown (a sign-in that expired), above everything; empty hides it."""
        self.reason_label.setText(text)
        self.reason_label.setVisible(bool(text))
        self._fit()

    def set_app_id(self, app_id: str) -> None:
        self.app_id_edit.setText(app_id)

    def set_known_key(self, known: bool) -> None:
        """The controller knows this APPID's APPKEY: the field may stay empty."""
        self.app_key_edit.setPlaceholderText(
            self.tr("leave empty to use the APPKEY of your last sign-in")
            if known
            else self.tr("the app's APPKEY")
        )

    def set_port(self, port: int) -> None:
        self.port_spin.setValue(port)
        if port != DEFAULT_CALLBACK_PORT:
            self.advanced_toggle.setChecked(True)

    def set_keyring_note(self, text: str) -> None:
        self.keyring_label.setText(text)
        self.keyring_label.setVisible(bool(text))
        self._fit()

    def entered(self) -> tuple[str, str, int]:
        """(APPID, APPKEY, port) as typed (stripped)."""
        return self.app_id_edit.text().strip(), self.app_key_edit.text().strip(), int(self.port_spin.value())

    def pasted_address(self) -> str:
        return self.pasted_edit.text().strip()

    def is_waiting(self) -> bool:
        return self._waiting

    def show_form(self, error: str = "", *, port_problem: bool = False, kind: str = "error") -> None:
        """The APPID/APPKEY form, with ``error`` (a message of ``kind``) under it; ``port_problem`` opens the
        port field."""
        self._waiting = False
        self._auth_url = ""
        self._show_page(self.form_page)
        self.sign_in_button.show()
        self.sign_in_button.setEnabled(True)
        self.cancel_button.setText(self.tr("Cancel"))
        self.show_error(error, kind)
        if port_problem:
            self.advanced_toggle.setChecked(True)
            self.port_spin.setFocus()
            self.port_spin.selectAll()
        elif not self.app_id_edit.text():
            self.app_id_edit.setFocus()
        else:
            self.app_key_edit.setFocus()

    def show_waiting(self, authorization_url: str, callback_url: str, note: str = "") -> None:
        """Waiting for the browser: Cancel stops waiting; the pasted address is another way back."""
        self._waiting = True
        self._auth_url = authorization_url
        self._show_page(self.waiting_page)
        self.sign_in_button.hide()
        self.cancel_button.setText(self.tr("Cancel"))
        self.pasted_edit.clear()
        self.pasted_edit.setPlaceholderText(f"{callback_url}?code=…&state=…")
        self.set_checking(False)
        if note:
            self.message.show_message("warning", note)
        else:
            self.message.clear_message()
        self._fit()

    def set_checking(self, checking: bool) -> None:
        """A pasted address is being checked with KDocs: no second one meanwhile."""
        self.pasted_edit.setEnabled(not checking)
        self.use_pasted_button.setEnabled(not checking and bool(self.pasted_address()))
        self.use_pasted_button.setText(self.tr("Checking…") if checking else self.tr("&Use this address"))

    def show_error(self, text: str, kind: str = "error") -> None:
        if text:
            self.message.show_message(kind, text)
        else:
            self.message.clear_message()
        self._fit()

    def _show_page(self, page: QWidget) -> None:
        """Switch pages; the dialog takes the size of the page shown."""
        for other in (self.form_page, self.waiting_page):
            other.setVisible(other is page)
        self._fit()

    def _fit(self) -> None:
        """Exactly as tall as the content at the current width: wrapped labels need their height for that
        width (``adjustSize`` goes by the widest layout and leaves them clipped or the dialog too tall)."""
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        width = max(self.width(), self.minimumWidth())
        height = (
            layout.totalHeightForWidth(width)
            if layout.hasHeightForWidth()
            else layout.totalSizeHint().height()
        )
        self.resize(width, max(height, layout.totalMinimumSize().height()))

    def clear_secrets(self) -> None:
        """Empty the APPKEY and pasted-address fields (the dialog is done with them)."""
        self.app_key_edit.clear()
        self.pasted_edit.clear()

    # ---- reactions ----------------------------------------------------------------------------------------

    @Slot()
    def _on_cancel(self) -> None:
        if self._waiting:
            self.cancelRequested.emit()
        else:
            self.reject()

    @Slot(bool)
    def _on_show_key(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.app_key_edit.setEchoMode(mode)

    @Slot(bool)
    def _on_advanced(self, shown: bool) -> None:
        self.advanced_box.setVisible(shown)
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self._fit()

    @Slot(int)
    def _on_port(self, port: int) -> None:
        self.callback_label.setText(redirect_uri_for(port))

    @Slot(str)
    def _on_pasted_changed(self, text: str) -> None:
        self.use_pasted_button.setEnabled(bool(text.strip()) and self.pasted_edit.isEnabled())

    @Slot()
    def _on_use_pasted(self) -> None:
        if self.pasted_address() and self.pasted_edit.isEnabled():
            self.pasteSubmitted.emit()

    @Slot()
    def _on_copy_address(self) -> None:
        if self._auth_url:
            QGuiApplication.clipboard().setText(self._auth_url)

"""Signing in with KDocs from the window: the guided dialog, the browser and the loopback listener, the
keyring, and a token that renews itself.

One attempt at a time, run by ``gui.signin_attempt.SignInAttempts``: the listener, the browser (``open_url``:
the system browser by default, a ``ScriptedBrowser`` in the demo and tests), the wait and the code exchange.
This controller owns the dialog, the account and where the sign-in is kept.

A sign-in becomes the window's token through ``TokenController.accept_sign_in``: the client's provider is one
``token_provider()`` object for the window's life, which delegates to the current sign-in's
``TokenRefresher`` (renewal before expiry and once on 20007, one refresh for all callers). So a new sign-in
— the same app or another — never replaces the client, and a refused refresh pauses the browser through
the token controller's rejection path, which asks for a sign-in once while the list and selection stay.

The sign-in (tokens and APPKEY) goes to the keyring through the token controller's ``KeyringBridge`` (off
the GUI thread, bounded by timeouts), renewed tokens too. Without a usable keyring it is kept for this
session only, and the user is told. The demo keeps it in memory and never touches the keyring. The APPID and
the callback port are no secrets and go to the settings, so the next sign-in is pre-filled.

For others (the workbook picker): ``signedIn(name)``, ``signedOut()``, ``changed()``, ``is_signed_in()``,
``user_name()``, ``token_provider()``; the signed-in client is ``TokenController.client()``.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QWidget

from kdocs_viewer.core.signed_in_tokens import SignedInTokens
from kdocs_viewer.gui import settings as S
from kdocs_viewer.gui.keyring_bridge import KeyringOp
from kdocs_viewer.gui.scripted_browser import OpenUrl, ScriptedBrowser, open_in_system_browser
from kdocs_viewer.gui.signin_attempt import SignInAttempts
from kdocs_viewer.gui.tasks import BackgroundCalls, TaskResult
from kdocs_viewer.gui.token_controller import TokenController, TokenSource

if TYPE_CHECKING:  # httpx and keyring load after the first paint
    from kdocs_viewer.core.auth import AppCredentials, SignIn, TokenSet
    from kdocs_viewer.gui.settings import AppSettings
    from kdocs_viewer.gui.signin_dialog import SignInDialog

__all__ = ["ScriptedBrowser", "SignInController", "SignedInTokens"]

log = logging.getLogger(__name__)

_USER = "user"  # who signed in


class SignInController(QObject):
    """Owner of the sign-in: dialog, attempts, keyring entries, the token provider. See the module docstring.

    ``token`` is the window's ``TokenController`` (its keyring bridge is shared); ``dialog_parent`` the
    window. ``open_url(url) -> bool`` opens the browser, on the GUI thread, without blocking.
    ``listen_timeout`` is how long a sign-in waits for the browser (None: the listener's 5 minutes).
    """

    signedIn = Signal(str)  # the user's nickname ("" when KDocs did not say); the client is signed in
    signedOut = Signal()
    changed = Signal()  # read account_status(), is_signed_in()
    prompted = Signal(str)  # the sign-in dialog opened, with this reason ("" for a plain sign-in)
    message = Signal(str, str)  # (kind, text) about what the user is doing
    notice = Signal(str, str)  # (kind, text) news that arrives in its own time (the keyring's)

    def __init__(
        self,
        token: TokenController,
        app_settings: AppSettings,
        dialog_parent: QWidget,
        *,
        language: str = "en",
        open_url: OpenUrl | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._token = token
        self._settings = app_settings
        self._dialog_parent = dialog_parent
        page_lang = "zh-CN" if language == "zh_CN" else "en"
        self._attempts = SignInAttempts(token, page_lang, open_url or open_in_system_browser, self)
        self._provider = SignedInTokens()
        self._sign_in: SignIn | None = None  # the sign-in in use (its tokens kept current)
        self._known_app: AppCredentials | None = None  # the app of the last sign-in, for "sign in again"
        self._serial = 0  # one per installed sign-in: renewals of an older one are ignored
        self._user = ""
        self._kept = ""  # where the sign-in is kept: "keyring", "session", "demo", "" (not yet known)
        self._keyring_backend = ""
        self._keyring_usable: bool | None = None
        self._memory_only = False
        self._dialog: SignInDialog | None = None
        self._cancelled_note = ""
        self._browser: ScriptedBrowser | None = None
        self._closed = False

        self._calls = BackgroundCalls(self, max_threads=1)
        self._calls.finished.connect(self._on_call_done)
        self._attempts.waiting.connect(self._on_waiting)
        self._attempts.succeeded.connect(self._on_succeeded)
        self._attempts.failed.connect(self._on_failed)
        self._attempts.pasteAnswered.connect(self._on_paste_answered)
        self._attempts.changed.connect(self.changed)
        self._relay = _RenewalRelay(self)
        self._relay.renewed.connect(self._on_renewed)
        token.keyring_bridge().finished.connect(self._on_keyring_result)
        token.changed.connect(self.changed)

        self.sign_in_action = QAction(self.tr("Sign &in with KDocs…"), self)
        self.sign_in_action.triggered.connect(self._on_sign_in_action)
        self.sign_out_action = QAction(self.tr("Sign &out"), self)
        self.sign_out_action.triggered.connect(self.sign_out)
        self.changed.connect(self._update_actions)
        self._update_actions()

    # ------------------------------------------------------------------------------------------------------
    # state, for the window and the picker

    @property
    def listen_timeout(self) -> float | None:
        """How long a sign-in waits for the browser (None: the listener's own 5 minutes)."""
        return self._attempts.listen_timeout

    @listen_timeout.setter
    def listen_timeout(self, seconds: float | None) -> None:
        self._attempts.listen_timeout = seconds

    def is_signed_in(self) -> bool:
        """The window's client uses a sign-in now."""
        return self._sign_in is not None and self._token.source() is TokenSource.SIGNED_IN

    def user_name(self) -> str:
        """The signed-in user's nickname ("" while unknown or signed out)."""
        return self._user if self.is_signed_in() else ""

    def token_provider(self) -> SignedInTokens:
        """The ``TokenProvider`` of the window's client while signed in (fails "not signed in" otherwise)."""
        return self._provider

    def account_status(self) -> tuple[str | None, str]:
        """(the name to show — None when not signed in, "" when unknown — and a tooltip: where it is kept)."""
        if not self.is_signed_in():
            return None, self.tr("Sign in with your KDocs app")
        if self._kept == "demo":
            where = self.tr("Demo sign-in: kept for this session only.")
        elif self._kept == "session":
            where = self.tr("Keyring unavailable — the sign-in is kept for this session only.")
        elif self._kept == "keyring":
            where = self.tr("Your APPKEY and tokens are kept in the keyring (%1).").replace(
                "%1", self._keyring_backend or self.tr("keyring")
            )
        else:
            where = ""
        return self._user, where

    def is_prompting(self) -> bool:
        """The sign-in dialog is open, or a sign-in is under way (``SignInPrompt``)."""
        return self._dialog is not None or self._attempts.running()

    # ------------------------------------------------------------------------------------------------------
    # starting

    def look_up(self) -> None:
        """Ask the keyring for this server's sign-in, off the GUI thread (normal start; call before
        ``TokenController.look_up`` so a stored sign-in wins over a stored pasted token)."""
        if self._memory_only or self._token.is_demo():
            return
        self._token.keyring_bridge().load_sign_in(self._token.base_url())

    def use_demo(self, app: AppCredentials) -> None:
        """Sign in to the in-process stand-in as the demo does: the real flow (listener, consent page,
        code exchange) with a scripted browser, on any free port, kept in memory only."""
        self._memory_only = True
        self._keyring_usable = False
        browser = self.use_scripted_browser()
        browser.failed.connect(self._on_browser_failed)
        self.start(app, port=0, interactive=False)

    def use_scripted_browser(self, *, allow: bool = True) -> ScriptedBrowser:
        """Open authorization URLs with a ``ScriptedBrowser`` (owned here) instead of the system browser."""
        if self._browser is None:
            self._browser = ScriptedBrowser(self, allow=allow)
        self._browser.allow = allow
        self._attempts.open_url = self._browser.open
        return self._browser

    def set_open_url(self, open_url: OpenUrl) -> None:
        """How the browser is opened at the authorization URL (called on the GUI thread, must not block)."""
        self._attempts.open_url = open_url

    # ------------------------------------------------------------------------------------------------------
    # the dialog

    @Slot()
    def _on_sign_in_action(self) -> None:
        self.prompt()

    def prompt(self, reason: str = "", cancelled_note: str = "") -> None:
        """Show the sign-in dialog (or bring the open one forward). See ``token_controller.SignInPrompt``."""
        if self._closed:
            return
        if reason or cancelled_note:
            self._cancelled_note = cancelled_note
        dialog = self._dialog
        if dialog is not None:
            if reason:
                dialog.set_reason(reason)
            dialog.raise_()
            dialog.activateWindow()
            return
        from kdocs_viewer.gui.signin_dialog import SignInDialog  # after the first paint: it loads httpx

        dialog = SignInDialog(self._dialog_parent)
        self._dialog = dialog
        dialog.set_reason(reason)
        known = self._known_app
        app_id = known.app_id if known is not None else self._settings.get(S.SIGN_IN_APP_ID)
        dialog.set_app_id(app_id)
        dialog.set_known_key(known is not None)
        dialog.set_port(self._settings.get(S.SIGN_IN_PORT))
        dialog.set_keyring_note(self._keyring_note())
        dialog.signInRequested.connect(self._on_sign_in_requested)
        dialog.cancelRequested.connect(self._on_cancel_requested)
        dialog.pasteSubmitted.connect(self._on_paste_submitted)
        dialog.pasteTokenRequested.connect(self._on_paste_token_requested)
        dialog.finished.connect(self._on_dialog_finished)
        self.changed.emit()
        self.prompted.emit(reason)
        dialog.open()

    def _keyring_note(self) -> str:
        if self._memory_only:
            return self.tr("Demo server: the sign-in is kept for this session only.")
        if self._keyring_usable is False:
            return self.tr("Keyring unavailable — the sign-in will be kept for this session only.")
        backend = self._keyring_backend or self.tr("the system keyring")
        return self.tr("Your APPKEY and tokens are kept in %1, never in a file.").replace("%1", backend)

    @Slot()
    def _on_sign_in_requested(self) -> None:
        dialog = self._dialog
        if dialog is None or self._attempts.running():
            return
        from kdocs_viewer.core.auth import AppCredentials

        app_id, app_key, port = dialog.entered()
        known = self._known_app
        if not app_key and known is not None and known.app_id == app_id:
            app_key = known.app_key
        try:
            app = AppCredentials(app_id, app_key)
        except ValueError as exc:
            dialog.show_error(str(exc))
            return
        self._settings.set(S.SIGN_IN_APP_ID, app_id)
        self._settings.set(S.SIGN_IN_PORT, port)
        self.start(app, port=port)

    @Slot()
    def _on_cancel_requested(self) -> None:
        """Cancel while waiting: the listener closes; the wait answers CANCELLED and the form comes back."""
        self._attempts.cancel()

    @Slot()
    def _on_paste_submitted(self) -> None:
        dialog = self._dialog
        if dialog is None or not self._attempts.paste(dialog.pasted_address()):
            return
        dialog.set_checking(True)
        dialog.show_error("")

    @Slot(str)
    def _on_paste_answered(self, problem: str) -> None:
        if self._dialog is not None:
            self._dialog.set_checking(False)
            if problem:
                self._dialog.show_error(problem)

    @Slot()
    def _on_paste_token_requested(self) -> None:
        """The dialog's "paste an access token instead" (Advanced): the token dialog, not a sign-in."""
        dialog = self._dialog
        if dialog is None:
            return
        reason = dialog.reason_label.text()
        note, self._cancelled_note = self._cancelled_note, ""
        dialog.done(QDialog.DialogCode.Accepted.value)  # not a refusal: no "not signed in" note
        if not self._token.ask(reason) and note:
            self.message.emit("warning", note)

    @Slot(int)
    def _on_dialog_finished(self, code: int) -> None:
        dialog, self._dialog = self._dialog, None
        if dialog is None:
            return
        dialog.clear_secrets()
        dialog.deleteLater()
        self._attempts.end(interactive_only=True)
        note, self._cancelled_note = self._cancelled_note, ""
        if code != QDialog.DialogCode.Accepted.value and note and not self._closed:
            self.message.emit("warning", note)
        self.changed.emit()

    # ------------------------------------------------------------------------------------------------------
    # one attempt

    def start(self, app: AppCredentials, *, port: int, interactive: bool = True) -> bool:
        """Sign in with ``app``: listen on ``port`` (0: any free port — the stand-in only), open the browser.
        False when it could not even start (the reason is shown)."""
        return self._attempts.start(app, port=port, interactive=interactive)

    @Slot(str, str, str)
    def _on_waiting(self, url: str, redirect_uri: str, note: str) -> None:
        if self._dialog is not None:
            self._dialog.show_waiting(url, redirect_uri, note)

    @Slot(object)
    def _on_call_done(self, result: object) -> None:
        if isinstance(result, TaskResult) and result.kind == _USER and not self._closed:
            self._on_user(result)

    @Slot(str, bool, bool, str)
    def _on_failed(self, text: str, port_problem: bool, interactive: bool, kind: str) -> None:
        if self._dialog is not None and interactive:
            self._dialog.show_form(text, port_problem=port_problem, kind=kind)
        else:
            self.message.emit(kind, text)

    @Slot(str)
    def _on_browser_failed(self, text: str) -> None:
        """The scripted browser got nowhere (the demo): the listener would wait in vain."""
        if self._attempts.running():
            self._attempts.end()
            self._on_failed(text, False, False, "error")

    @Slot(object, object, bool)
    def _on_succeeded(self, app: AppCredentials, tokens: TokenSet, interactive: bool) -> None:
        from kdocs_viewer.core.auth import SignIn

        sign_in = SignIn(app, tokens)
        self._install(sign_in)
        self._store(sign_in)
        if self._dialog is not None:
            self._cancelled_note = ""
            self._dialog.done(QDialog.DialogCode.Accepted.value)
        self._fetch_user(announce=interactive)

    # ------------------------------------------------------------------------------------------------------
    # a sign-in in use

    def _install(self, sign_in: SignIn) -> None:
        """Make ``sign_in`` the window's: a refresher behind the provider, the provider in the client."""
        from kdocs_viewer.core.token_refresh import TokenRefresher

        self._serial += 1
        serial, relay = self._serial, self._relay

        def renewed(tokens: TokenSet) -> None:  # on the worker that refreshed
            with contextlib.suppress(RuntimeError):  # the window is gone: nothing to store any more
                relay.renewed.emit(serial, tokens)

        refresher = TokenRefresher.for_sign_in(self._attempts.oauth_client(), sign_in, on_refreshed=renewed)
        self._sign_in = sign_in
        self._known_app = sign_in.app
        self._user = ""
        self._provider.install(refresher)
        self._token.accept_sign_in(self._provider)
        self.changed.emit()

    def _store(self, sign_in: SignIn) -> None:
        if self._memory_only:
            self._kept = "demo"
            return
        self._token.keyring_bridge().save_sign_in(self._token.base_url(), sign_in)

    @Slot(int, object)
    def _on_renewed(self, serial: int, tokens: object) -> None:
        """The refresher renewed the tokens: keep the new ones, and store them where the sign-in is kept."""
        sign_in = self._sign_in
        if serial != self._serial or sign_in is None or self._closed:
            return
        from kdocs_viewer.core.auth import TokenSet

        if not isinstance(tokens, TokenSet):
            return
        self._sign_in = sign_in.with_tokens(tokens)
        if self._kept == "keyring":
            self._store(self._sign_in)

    def _fetch_user(self, *, announce: bool) -> None:
        client = self._token.client()
        if client is None:
            return
        from kdocs_viewer.core.files import get_user

        serial = self._serial

        def who() -> tuple[int, bool, str]:
            return serial, announce, get_user(client).nickname

        self._calls.submit(_USER, who)

    def _on_user(self, result: TaskResult) -> None:
        from kdocs_viewer.core.api import TokenInvalidError

        error = result.error
        if error is not None:
            if isinstance(error, TokenInvalidError) and self.is_signed_in():
                self._token.reject()  # the stored sign-in no longer works: ask for a new one, once
                return
            log.info("the signed-in user could not be read: %s", type(error).__name__)
            name, announce = "", True
        else:
            serial, announce, name = result.value
            if serial != self._serial:
                return
        if not self.is_signed_in():
            return
        self._user = name
        self.changed.emit()
        if announce:
            text = (
                self.tr("Signed in to KDocs as %1.").replace("%1", name)
                if name
                else self.tr("Signed in to KDocs.")
            )
            if self._kept == "session":  # the keyring already said no: this message must not hide that
                where = self.tr("Keyring unavailable — the sign-in is kept for this session only.")
                self.message.emit("warning", f"{text} {where}")
            else:
                self.message.emit("info", text)
        self.signedIn.emit(name)

    @Slot()
    def sign_out(self) -> None:
        """Forget the sign-in: the keyring entries (tokens, APPKEY and the note of who is signed in) go,
        the window is signed out. Pictures already shown stay; loading more needs a new sign-in."""
        if self._sign_in is None and self._known_app is None:
            return
        self._attempts.end()
        self._serial += 1
        self._provider.install(None)
        self._sign_in = None
        self._known_app = None
        self._user = ""
        self._kept = ""
        self._token.forget_sign_in()
        if not self._memory_only:
            self._token.keyring_bridge().clear_sign_in(self._token.base_url())
            text = self.tr("Signed out. Your APPKEY and tokens were removed from the keyring.")
        else:
            text = self.tr("Signed out.")
        self.changed.emit()
        self.signedOut.emit()
        self.message.emit("info", text)

    # ------------------------------------------------------------------------------------------------------
    # the keyring's answers

    @Slot(str, object)
    def _on_keyring_result(self, op: str, result: object) -> None:
        if op not in (KeyringOp.SIGN_IN_LOAD, KeyringOp.SIGN_IN_SAVE, KeyringOp.SIGN_IN_CLEAR):
            return
        from kdocs_viewer.core.secrets import SignInResult, TokenStatus  # loaded by the worker that answered

        if not isinstance(result, SignInResult) or self._closed:
            return
        self._keyring_backend = result.backend
        self._keyring_usable = result.ok
        if op == KeyringOp.SIGN_IN_LOAD:
            if result.status is TokenStatus.STORED and result.sign_in is not None:
                if self._sign_in is None and not self._token.has_token():
                    self._kept = "keyring"
                    self._install(result.sign_in)
                    self._fetch_user(announce=False)
            elif result.status is TokenStatus.ERROR:
                self.notice.emit(
                    "warning",
                    self.tr("Your stored sign-in could not be read: %1").replace("%1", result.detail),
                )
        elif op == KeyringOp.SIGN_IN_SAVE:
            if self._sign_in is None:
                return  # signed out meanwhile (the clear that follows removes this entry)
            if result.status is TokenStatus.STORED:
                self._kept = "keyring"
            else:
                self._kept = "session"
                self.notice.emit(
                    "warning",
                    self.tr("Keyring unavailable — the sign-in is kept for this session only. (%1)").replace(
                        "%1", result.detail
                    ),
                )
            self.changed.emit()
        elif not result.ok:
            self.notice.emit(
                "warning",
                self.tr("Could not remove the sign-in from the keyring: %1").replace("%1", result.detail),
            )

    @Slot()
    def _update_actions(self) -> None:
        self.sign_out_action.setEnabled(self._sign_in is not None or self._known_app is not None)

    # ------------------------------------------------------------------------------------------------------
    # closing

    def shutdown(self) -> None:
        """Close the dialog, stop the attempt's listener and the workers (never waiting on the network),
        close the OAuth client. Idempotent. Call before ``TokenController.shutdown`` (whose bridge and client
        these use)."""
        if self._closed:
            return
        self._closed = True
        self._attempts.abandon()
        if self._dialog is not None:
            self._dialog.done(QDialog.DialogCode.Rejected.value)
        self._calls.shutdown()
        if self._browser is not None:
            self._browser.shutdown()
        self._provider.install(None)
        self._attempts.shutdown()


class _RenewalRelay(QObject):
    """Lives in the GUI thread; a refresher's callback emits on it from whichever worker refreshed."""

    renewed = Signal(int, object)  # (sign-in serial, TokenSet)

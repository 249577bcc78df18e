"""Running one sign-in attempt: the loopback listener, the browser, the wait and the code exchange.

One attempt at a time (``core.signin.SignInFlow``): the listener is bound on the GUI thread (instant; a port
in use is said at once), the browser is opened at the authorization URL (``open_url``), and the wait for the
callback and the code exchange run on this object's worker pool; a pasted address (a browser elsewhere) is
exchanged there too. Results come back as ``TaskResult``s on the GUI thread, and an attempt that was
cancelled or replaced is ignored. What the attempt ends in is told by signals; the dialog, the keyring and
the account belong to ``SignInController``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from kdocs_viewer.core.redact import redact
from kdocs_viewer.gui.scripted_browser import OpenUrl
from kdocs_viewer.gui.tasks import BackgroundCalls, TaskResult

if TYPE_CHECKING:  # httpx loads after the first paint
    from kdocs_viewer.core.auth import AppCredentials, OAuthClient
    from kdocs_viewer.core.oauth_listener import CallbackPage
    from kdocs_viewer.core.signin import SignInFlow
    from kdocs_viewer.gui.token_controller import TokenController

__all__ = ["SignInAttempts"]

log = logging.getLogger(__name__)

_WAIT = "wait"  # the listener's callback, then the code exchange
_PASTE = "paste"  # a pasted address, then the code exchange
_CANCEL = "cancel"  # stopping a listener (joins its thread: not on the GUI thread)


@dataclass
class _Attempt:
    """One sign-in under way."""

    flow: SignInFlow
    app: AppCredentials
    interactive: bool  # started from the dialog (else the demo's own sign-in)
    pasting: bool = False  # a pasted address is being exchanged: the listener's CANCELLED is expected


class SignInAttempts(QObject):
    """One sign-in attempt at a time, and the OAuth client of the window's server. See the module docstring.

    ``open_url(url) -> bool`` opens the browser, on the GUI thread, without blocking. ``listen_timeout`` is
    how long an attempt waits for the browser (None: the listener's 5 minutes).
    """

    waiting = Signal(str, str, str)  # (authorization URL, redirect URI, note) of an interactive attempt
    succeeded = Signal(object, object, bool)  # (AppCredentials, TokenSet, interactive)
    failed = Signal(str, bool, bool, str)  # (text, port problem, interactive, kind)
    pasteAnswered = Signal(str)  # a pasted address was checked: "" or why it is not this attempt's answer
    changed = Signal()  # an attempt started or ended

    def __init__(self, token: TokenController, page_lang: str, open_url: OpenUrl, parent: QObject) -> None:
        super().__init__(parent)
        self._token = token
        self._page_lang = page_lang
        self.open_url = open_url
        self.listen_timeout: float | None = None
        self._oauth: OAuthClient | None = None
        self._oauth_base = ""
        self._attempt: _Attempt | None = None
        self._closed = False
        self._calls = BackgroundCalls(self, max_threads=2)
        self._calls.finished.connect(self._on_call_done)

    def running(self) -> bool:
        return self._attempt is not None

    def start(self, app: AppCredentials, *, port: int, interactive: bool = True) -> bool:
        """Sign in with ``app``: listen on ``port`` (0: any free port — the stand-in only), open the browser.
        False when it could not even start (``failed`` says why)."""
        from kdocs_viewer.core.api import KDocsError
        from kdocs_viewer.core.auth import AuthError, AuthReason
        from kdocs_viewer.core.oauth_listener import DEFAULT_TIMEOUT
        from kdocs_viewer.core.signin import SignInFlow

        self.end()
        timeout = self.listen_timeout or DEFAULT_TIMEOUT
        try:
            oauth = self.oauth_client()
            flow = SignInFlow(oauth, app, port=port, page=self._callback_page(), timeout=timeout)
            url = flow.start()
        except AuthError as exc:
            port_problem = exc.auth_reason is AuthReason.PORT_IN_USE
            self.failed.emit(str(exc), port_problem, interactive, "error")
            return False
        except (KDocsError, ValueError) as exc:  # a base URL that is not https (nor loopback)
            self.failed.emit(redact(str(exc)), False, interactive, "error")
            return False
        attempt = _Attempt(flow, app, interactive)
        self._attempt = attempt
        self._calls.submit(_WAIT, flow.wait)
        note = ""
        if not self.open_url(url):
            note = self.tr(
                "No browser could be opened. Copy the sign-in address into a browser yourself, allow access, "
                "and paste the address it ends up on."
            )
        if interactive:
            self.waiting.emit(url, flow.redirect_uri, note)
        self.changed.emit()
        return True

    def cancel(self) -> None:
        """Cancel while waiting: the listener closes; the wait answers CANCELLED (``failed``, kind info)."""
        attempt = self._attempt
        if attempt is not None:
            self._calls.submit(_CANCEL, attempt.flow.cancel)

    def paste(self, pasted: str) -> bool:
        """Exchange the code of a pasted address; False when there is no attempt or a paste is running."""
        attempt = self._attempt
        if attempt is None or attempt.pasting:
            return False
        attempt.pasting = True
        flow = attempt.flow
        self._calls.submit(_PASTE, lambda: flow.complete(pasted))
        return True

    def end(self, *, interactive_only: bool = False) -> None:
        """Forget the attempt under way (only one started from the dialog, with ``interactive_only``); its
        listener is closed off the GUI thread."""
        attempt = self._attempt
        if attempt is None or (interactive_only and not attempt.interactive):
            return
        self._attempt = None
        self._calls.forget(_WAIT)
        self._calls.forget(_PASTE)
        self._calls.submit(_CANCEL, attempt.flow.cancel)
        self.changed.emit()

    def oauth_client(self) -> OAuthClient:
        """The OAuth client of the window's server (a new one when the server changed)."""
        from kdocs_viewer.core.auth import OAuthClient

        base_url = self._token.base_url()
        if self._oauth is not None and self._oauth_base != base_url:
            self._oauth.close()  # another server (the demo's): a sign-in of the old one is of no use there
            self._oauth = None
        if self._oauth is None:
            self._oauth = OAuthClient(base_url)
            self._oauth_base = base_url
        return self._oauth

    def _callback_page(self) -> CallbackPage:
        """What the browser tab says afterwards, in the user's language (the core's translator is Qt's)."""
        from kdocs_viewer.core.oauth_listener import CallbackPage

        return CallbackPage.default(self._page_lang)

    @Slot(object)
    def _on_call_done(self, result: object) -> None:
        if not isinstance(result, TaskResult) or self._closed:
            return
        attempt = self._attempt
        if attempt is None or result.kind not in (_WAIT, _PASTE):
            return
        from kdocs_viewer.core.auth import AuthError, AuthReason  # loaded by the attempt

        error = result.error
        if result.kind == _PASTE:
            attempt.pasting = False
            not_ours = (AuthReason.STATE_MISMATCH, AuthReason.NO_CODE)
            if isinstance(error, AuthError) and error.auth_reason in not_ours:
                self.pasteAnswered.emit(
                    str(error)
                )  # not this attempt's answer: keep waiting
                return
            self.pasteAnswered.emit("")
            if isinstance(error, AuthError) and error.auth_reason is AuthReason.CANCELLED:
                return  # the browser's callback came first and is being exchanged
        elif attempt.pasting and isinstance(error, AuthError) and error.auth_reason is AuthReason.CANCELLED:
            return  # the pasted address took over from the listener
        if error is None:
            self._attempt = None
            self._calls.forget(_PASTE)
            self.succeeded.emit(attempt.app, result.value, attempt.interactive)
            return
        kind = "error"
        if isinstance(error, AuthError):
            text = str(error)
            if error.auth_reason is AuthReason.CANCELLED:
                kind = "info"  # the user's own choice, not a failure
        else:
            log.info("sign-in failed: %s", type(error).__name__)
            text = redact(str(error)) or type(error).__name__
        self._attempt = None
        self._calls.forget(_WAIT)
        self._calls.forget(_PASTE)
        self.failed.emit(text, False, attempt.interactive, kind)
        self.changed.emit()

    def abandon(self) -> None:
        """Closing: stop the attempt's listener now, and take no more answers."""
        self._closed = True
        attempt, self._attempt = self._attempt, None
        if attempt is not None:
            attempt.flow.cancel()

    def shutdown(self) -> None:
        """Stop the workers (a call on the wire is not waited for) and close the OAuth client (after
        ``abandon``)."""
        self.abandon()
        self._calls.shutdown()
        if self._oauth is not None:
            self._oauth.close()

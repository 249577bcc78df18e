"""The access token's life cycle: where a token comes from, where it is kept, and what a rejection does.

A token arrives one of these ways: the keyring (looked up off the GUI thread at start, ``KeyringBridge``), the
token dialog, or the demo server's own token. Whichever way, it enters through one door, ``_accept_token``:
it goes to the API client (made then, or given the new token — ``tokenReplaced`` tells whoever runs on that
client to resume) and the action that was waiting for a token runs. A further way of obtaining a token (a
sign-in) is one more caller of that door.

What it guarantees:
- nothing here blocks on the keyring: its answers come back as signals, and until then the source is
  ``CHECKING`` and an action that needs the token waits (``ensure``);
- a rejected token (20007) is asked about once, however many parts of the window report it (``reject``);
- the token goes only to the client and, when the user asks, to the keyring: never into a signal meant for
  display, a setting, a title, a tooltip or a log.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QWidget

from kdocs_viewer.gui.keyring_bridge import KeyringBridge, KeyringOp

if TYPE_CHECKING:  # the client and the keyring load after the first paint
    from kdocs_viewer.core.api import KDocsClient
    from kdocs_viewer.core.secrets import TokenStore
    from kdocs_viewer.gui.token_dialog import TokenChoice

__all__ = ["TokenController", "TokenSource"]

Action = Callable[[], object]


class TokenSource(Enum):
    NONE = "none"
    CHECKING = "checking"  # the keyring lookup is still running
    SESSION = "session"  # in memory only
    KEYRING = "keyring"  # in memory and stored in the keyring


class TokenController(QObject):
    """Owner of the token, the API client that carries it and the keyring bridge; see the module docstring.

    ``dialog_parent`` is the window the token dialog belongs to. Messages for the user come out as
    ``message``/``notice`` (kind, text), like ``MessageArea.show_message``/``show_notice``.
    """

    changed = Signal()  # source or keyring state changed: read status()
    tokenReplaced = Signal(str)  # the running client has a new token: the browser resumes with it
    message = Signal(str, str)  # (kind, text) about what the user is doing
    notice = Signal(str, str)  # (kind, text) news that arrives in its own time (the keyring's)

    def __init__(
        self,
        base_url: str,
        token_store: TokenStore | None,
        dialog_parent: QWidget,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._base_url = base_url
        self._dialog_parent = dialog_parent
        self._demo = False
        self._token: str | None = None
        self._source = TokenSource.NONE
        self._client: KDocsClient | None = None
        self._keyring_backend = ""
        self._keyring_usable: bool | None = None  # None: not known yet
        self._stored_in_keyring = False
        self._after_token: Action | None = None  # runs when a token arrives (see ensure, reject)
        self._dialog_open = False
        self._rejected_prompt_queued = False
        self._closed = False
        self._bridge = KeyringBridge(token_store, self)  # None: the default store, made on its worker
        self._bridge.finished.connect(self._on_keyring_result)

    # ------------------------------------------------------------------------------------------------------
    # state

    def base_url(self) -> str:
        return self._base_url

    def is_demo(self) -> bool:
        return self._demo

    def source(self) -> TokenSource:
        return self._source

    def has_token(self) -> bool:
        return self._token is not None

    def client(self) -> KDocsClient | None:
        """The API client with the current token (None until the first token)."""
        return self._client

    def status(self) -> tuple[str, str]:
        """(text, tooltip) for the status bar: where the token comes from, never the token."""
        source = self._source
        if source is TokenSource.KEYRING:
            backend = self._keyring_backend or self.tr("keyring")
            text = self.tr("Token: stored in keyring (%1)").replace("%1", backend)
        elif source is TokenSource.SESSION and self._demo:
            text = self.tr("Token: demo, this session only")
        elif source is TokenSource.SESSION:
            text = self.tr("Token: this session only")
        elif source is TokenSource.CHECKING:
            text = self.tr("Token: checking keyring…")
        else:
            text = self.tr("Token: none")
        if self._keyring_usable is False and source is not TokenSource.KEYRING:
            return text, self.tr("Keyring unavailable — kept for this session only")
        return text, self.tr("Set, replace or forget the access token")

    # ------------------------------------------------------------------------------------------------------
    # ways a token arrives

    def look_up(self) -> None:
        """Ask the keyring for this server's token, off the GUI thread (normal start)."""
        if self._demo or self._token is not None:
            return
        self._set_source(TokenSource.CHECKING)
        self._bridge.get(self._base_url)

    def use_demo(self, base_url: str, token: str) -> None:
        """The in-process stand-in's token: for this session only, never the keyring."""
        self._demo = True
        self._base_url = base_url
        self._accept_token(token, TokenSource.SESSION)

    @Slot()
    def ask(self, reason: str = "") -> bool:
        """Open the token dialog (one at a time). True when a new token was set."""
        if self._dialog_open:
            return False
        self._dialog_open = True
        from kdocs_viewer.gui.token_dialog import TokenDialog

        try:
            dialog = TokenDialog(
                self._dialog_parent,
                base_url=self._base_url,
                backend=self._keyring_backend,
                keyring_usable=self._keyring_usable is not False,
                has_token=self._token is not None or self._stored_in_keyring,
                remember=True,
                reason=reason if isinstance(reason, str) else "",
                demo=self._demo,
            )
            choice = dialog.ask()
            dialog.deleteLater()
        finally:
            self._dialog_open = False
        if choice is None:
            return False
        return self._apply_choice(choice)

    def _apply_choice(self, choice: TokenChoice) -> bool:
        if choice.action == "forget":
            self._token = None
            if not self._demo:
                self._bridge.delete(self._base_url)
            self._stored_in_keyring = False
            self._set_source(TokenSource.NONE)
            self.message.emit("info", self.tr("The access token was forgotten."))
            return False
        if not self._accept_token(choice.token, TokenSource.SESSION):
            return False
        if choice.remember and not self._demo and self._keyring_usable is not False:
            self._bridge.set(self._base_url, choice.token)
        elif self._stored_in_keyring and not self._demo:
            self._bridge.delete(self._base_url)  # "don't remember": no stale token left in the keyring
            self._stored_in_keyring = False
        return True

    def _accept_token(self, token: str, source: TokenSource) -> bool:
        """The one door a token comes in by: the client gets it, then the waiting action runs."""
        self._token = token
        if self._client is None:
            from kdocs_viewer.core.api import KDocsClient, KDocsError

            try:
                self._client = KDocsClient(token, self._base_url)
            except KDocsError as exc:  # e.g. a plain-http base URL that is not loopback
                self._token = None
                self._set_source(TokenSource.NONE)
                self.message.emit("error", str(exc))
                return False
        else:
            self._client.set_token(token)
            self.tokenReplaced.emit(token)
        self._set_source(source)
        pending, self._after_token = self._after_token, None
        if pending is not None:
            pending()
        return True

    # ------------------------------------------------------------------------------------------------------
    # needing a token, losing one

    def ensure(self, then: Action) -> bool:
        """True when a token is at hand. Otherwise False: ``then`` runs once the keyring lookup has answered,
        or the user is asked now (and the caller goes on only if that gave a token)."""
        if self._token is not None:
            return True
        if self._source is TokenSource.CHECKING:
            self._after_token = then
            self.message.emit("info", self.tr("Looking for a stored access token…"))
            return False
        if self.ask(self.tr("An access token is needed to read the workbook.")):
            return self._token is not None
        self.message.emit("warning", self.tr("No access token: set one with File → Set access token…"))
        return False

    @Slot()
    def reject(self, retry: Action | None = None) -> None:
        """The server rejected the token (20007): ask for a new one, once however often this is called.

        ``retry`` (what failed) runs when a new token arrives — from this dialog or a later one. Parts that
        resume on ``tokenReplaced`` (the browser, which pauses and reports once) pass nothing.
        """
        if retry is not None:
            self._after_token = retry
        if self._dialog_open or self._rejected_prompt_queued or self._closed:
            return
        self._rejected_prompt_queued = True
        QTimer.singleShot(0, self, self._prompt_after_rejection)

    @Slot()
    def _prompt_after_rejection(self) -> None:
        self._rejected_prompt_queued = False
        if self._closed:
            return
        reason = self.tr(
            "The server rejected the access token (code 20007) — it may have expired. Enter a new one; "
            "the picture list and your selection are kept."
        )
        if not self.ask(reason):
            self.message.emit(
                "warning",
                self.tr("Loading is paused until a new access token is set (File → Set access token…)."),
            )

    # ------------------------------------------------------------------------------------------------------
    # the keyring's answers

    @Slot(str, object)
    def _on_keyring_result(self, op: str, result: object) -> None:
        from kdocs_viewer.core.secrets import TokenResult, TokenStatus  # loaded by the worker that answered

        if not isinstance(result, TokenResult) or self._closed:
            return
        self._keyring_backend = result.backend
        unavailable = result.status in (TokenStatus.UNAVAILABLE, TokenStatus.TIMED_OUT, TokenStatus.LOCKED)
        self._keyring_usable = not unavailable and result.status is not TokenStatus.ERROR
        if op == KeyringOp.GET:
            if not result.ok:
                self.notice.emit(
                    "warning",
                    self.tr(
                        "Keyring unavailable — a token you enter is kept for this session only. (%1)"
                    ).replace("%1", result.detail),
                )
            if result.status is TokenStatus.STORED and result.token and self._token is None:
                self._stored_in_keyring = True
                if self._accept_token(result.token, TokenSource.KEYRING):
                    return
            elif self._source is TokenSource.CHECKING:
                self._set_source(TokenSource.NONE)
            pending, self._after_token = self._after_token, None
            self.changed.emit()
            if pending is not None:
                pending()  # without a token it asks the user
        elif op == KeyringOp.SET:
            if result.status is TokenStatus.STORED:
                self._stored_in_keyring = True
                if self._token is not None:
                    self._source = TokenSource.KEYRING
            else:
                self._stored_in_keyring = False
                self.notice.emit(
                    "warning",
                    self.tr("Keyring unavailable — the token is kept for this session only. (%1)").replace(
                        "%1", result.detail
                    ),
                )
            self.changed.emit()
        elif op == KeyringOp.DELETE and not result.ok:
            self.notice.emit(
                "warning",
                self.tr("Could not remove the token from the keyring: %1").replace("%1", result.detail),
            )

    def _set_source(self, source: TokenSource) -> None:
        self._source = source
        self.changed.emit()

    def shutdown(self) -> None:
        """Stop answering, join the keyring worker, close the client. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._bridge.shutdown()
        if self._client is not None:
            self._client.close()
        self._token = None

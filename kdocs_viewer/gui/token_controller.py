"""The access token's life cycle: where a token comes from, where it is kept, and what a rejection does.

A token arrives one of these ways: a sign-in with KDocs (``SignInController`` hands over a token provider
that renews the token itself), the keyring (a pasted token remembered earlier, looked up off the GUI thread at
start, ``KeyringBridge``), or the token dialog ("Advanced": pasting a token by hand). Whichever way, it
enters through one door, ``_accept_token``: it goes to the API client (made then, or given the new token or
provider — ``tokenReplaced`` tells whoever runs on that client to resume) and the action that was waiting for
a token runs.

Asking the user is routed by where the token came from: with a sign-in prompt installed
(``set_sign_in_prompt``), a missing token or a refused sign-in opens the sign-in dialog; a rejected pasted
token opens the token dialog again.

What it guarantees:
- nothing here blocks on the keyring: its answers come back as signals, and until then the source is
  ``CHECKING`` and an action that needs the token waits (``ensure``);
- a rejected token (20007), or a sign-in KDocs no longer accepts, is asked about once, however many parts of
  the window report it (``reject``); the browser keeps its list and selection meanwhile;
- the token goes only to the client and, when the user asks, to the keyring: never into a signal, a setting,
  a title, a tooltip or a log.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QWidget

from kdocs_viewer.gui.keyring_bridge import KeyringBridge, KeyringOp

if TYPE_CHECKING:  # the client and the keyring load after the first paint
    from kdocs_viewer.core.api import KDocsClient, TokenProvider
    from kdocs_viewer.core.secrets import TokenStore
    from kdocs_viewer.gui.token_dialog import TokenChoice

__all__ = ["SignInPrompt", "TokenController", "TokenSource"]

Action = Callable[[], object]


class TokenSource(Enum):
    NONE = "none"
    CHECKING = "checking"  # the keyring lookup is still running
    SESSION = "session"  # a pasted token, in memory only
    KEYRING = "keyring"  # a pasted token, in memory and stored in the keyring
    SIGNED_IN = "signed in"  # a sign-in's token provider (see SignInController)


class SignInPrompt(Protocol):
    """What the controller needs of the sign-in (``SignInController``) to ask the user to sign in."""

    def prompt(self, reason: str = "", cancelled_note: str = "") -> None:
        """Show the sign-in dialog (or bring the open one forward) with ``reason`` above it; if the user
        closes it without signing in, say ``cancelled_note``. Returns at once: the token arrives later."""
        ...

    def is_prompting(self) -> bool:
        """The sign-in dialog is open, or a sign-in is under way."""
        ...


class TokenController(QObject):
    """Owner of the token, the API client that carries it and the keyring bridge; see the module docstring.

    ``dialog_parent`` is the window the token dialog belongs to. Messages for the user come out as
    ``message``/``notice`` (kind, text), like ``MessageArea.show_message``/``show_notice``.
    """

    changed = Signal()  # source or keyring state changed: read status()
    tokenReplaced = Signal()  # the running client has a new token or sign-in: whoever paused resumes
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
        self._credential: str | TokenProvider | None = None  # a pasted token, or a sign-in's provider
        self._source = TokenSource.NONE
        self._client: KDocsClient | None = None
        self._keyring_backend = ""
        self._keyring_usable: bool | None = None  # None: not known yet
        self._stored_in_keyring = False
        self._after_token: Action | None = None  # runs when a token arrives (see ensure, reject)
        self._dialog_open = False
        self._rejected_prompt_queued = False
        self._sign_in_prompt: SignInPrompt | None = None
        self._signed_out = False  # the user signed out: a rejection now pauses quietly
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
        """A token is at hand (a pasted one, or a sign-in's)."""
        return self._credential is not None

    def client(self) -> KDocsClient | None:
        """The API client with the current token (None until the first token). It is made once and kept:
        a new token or sign-in goes into this same client."""
        return self._client

    def keyring_bridge(self) -> KeyringBridge:
        """The keyring worker (shared with the sign-in, so keyring calls stay in order); owned here."""
        return self._bridge

    def set_sign_in_prompt(self, prompt: SignInPrompt | None) -> None:
        """Ask for a sign-in (not a pasted token) when a token is missing or a sign-in was refused."""
        self._sign_in_prompt = prompt

    def _prompting(self) -> bool:
        return self._sign_in_prompt is not None and self._sign_in_prompt.is_prompting()

    def status(self) -> tuple[str, str]:
        """(text, tooltip) for the status bar: where the token comes from, never the token."""
        source = self._source
        if source is TokenSource.KEYRING:
            backend = self._keyring_backend or self.tr("keyring")
            text = self.tr("Token: stored in keyring (%1)").replace("%1", backend)
        elif source in (TokenSource.SESSION, TokenSource.SIGNED_IN) and self._demo:
            text = self.tr("Token: demo, this session only")
        elif source is TokenSource.SIGNED_IN:
            text = self.tr("Token: from your KDocs sign-in")
            tooltip = self.tr(
                "Renewed automatically before it expires. Click to set an access token by hand instead."
            )
            return text, tooltip
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
        """Ask the keyring for this server's pasted token, off the GUI thread (normal start; a stored
        sign-in, looked up first, wins over it)."""
        if self._demo or self._credential is not None:
            return
        self._set_source(TokenSource.CHECKING)
        self._bridge.get(self._base_url)

    def use_demo(self, base_url: str) -> None:
        """The in-process stand-in: its server, and nothing of this session ever goes to the keyring."""
        self._demo = True
        self._base_url = base_url
        self.changed.emit()

    def accept_sign_in(self, provider: TokenProvider) -> bool:
        """A sign-in's token provider (renewing the token itself) becomes the client's token."""
        self._signed_out = False
        return self._accept_token(provider, TokenSource.SIGNED_IN)

    def forget_sign_in(self) -> None:
        """The user signed out: no token until a new sign-in or pasted token. Calls already running on the
        client fail as "not signed in"; their rejection pauses loading without asking."""
        if self._source is not TokenSource.SIGNED_IN:
            return
        self._credential = None
        self._signed_out = True
        self._set_source(TokenSource.NONE)

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
                has_token=isinstance(self._credential, str) or self._stored_in_keyring,
                remember=True,
                reason=reason if isinstance(reason, str) else "",
                demo=self._demo,
                checking=self._source is TokenSource.CHECKING or self._bridge.pending() > 0,
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
            if isinstance(self._credential, str):  # a sign-in is signed out of, not forgotten here
                self._credential = None
                self._set_source(TokenSource.NONE)
            if not self._demo:
                self._bridge.delete(self._base_url)
            self._stored_in_keyring = False
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

    def _accept_token(self, token: str | TokenProvider, source: TokenSource) -> bool:
        """The one door a token (or a sign-in's provider) comes in by: the client gets it, then the waiting
        action runs."""
        self._credential = token
        if self._client is None:
            from kdocs_viewer.core.api import KDocsClient, KDocsError

            try:
                self._client = KDocsClient(token, self._base_url)
            except KDocsError as exc:  # e.g. a plain-http base URL that is not loopback
                self._credential = None
                self._set_source(TokenSource.NONE)
                self.message.emit("error", str(exc))
                return False
        else:
            self._client.set_token(token)
            self.tokenReplaced.emit()
        if source is not TokenSource.SIGNED_IN:
            self._signed_out = False
        self._set_source(source)
        pending, self._after_token = self._after_token, None
        if pending is not None:
            pending()
        return True

    # ------------------------------------------------------------------------------------------------------
    # needing a token, losing one

    def ensure(self, then: Action) -> bool:
        """True when a token is at hand. Otherwise False: ``then`` runs once the keyring lookup has answered
        or the sign-in under way has finished, or the user is asked now — to sign in (``then`` runs when
        they have), or, without a sign-in prompt, for a token (the caller goes on only if that gave one)."""
        if self._credential is not None:
            return True
        if self._source is TokenSource.CHECKING:
            self._after_token = then
            self.message.emit("info", self.tr("Looking for a stored access token…"))
            return False
        if self._prompting():
            self._after_token = then
            self.message.emit("info", self.tr("Waiting for the sign-in to finish…"))
            return False
        if self._sign_in_prompt is not None:
            self._sign_in_prompt.prompt(
                self.tr("Sign in to KDocs to read the workbook."),
                self.tr("Not signed in: use Account → Sign in… or File → Set access token…"),
            )
            if self._credential is not None:  # given at once (the dialog's "paste an access token")
                return True
            self._after_token = then
            return False
        if self.ask(self.tr("An access token is needed to read the workbook.")):
            return self._credential is not None
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
        if self._dialog_open or self._rejected_prompt_queued or self._closed or self._prompting():
            return
        self._rejected_prompt_queued = True
        QTimer.singleShot(0, self, self._prompt_after_rejection)

    @Slot()
    def _prompt_after_rejection(self) -> None:
        self._rejected_prompt_queued = False
        if self._closed or self._prompting():
            return
        if self._signed_out and self._credential is None:
            self.message.emit(
                "warning",
                self.tr("You signed out: loading is paused until you sign in again (Account → Sign in…)."),
            )
            return
        if self._source is TokenSource.SIGNED_IN and self._sign_in_prompt is not None:
            self._sign_in_prompt.prompt(
                self.tr(
                    "KDocs no longer accepts your sign-in (it expired or was revoked). Sign in again; the "
                    "picture list and your selection are kept."
                ),
                self.tr("Loading is paused until you sign in again (Account → Sign in…)."),
            )
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
            # Still the start-up lookup's to decide: no sign-in came meanwhile, nobody signed out.
            starting = self._source is TokenSource.CHECKING
            if result.status is TokenStatus.STORED and result.token and starting:
                self._stored_in_keyring = True
                if self._accept_token(result.token, TokenSource.KEYRING):
                    return
            elif starting:
                self._set_source(TokenSource.NONE)
            # What waited for this lookup goes on now (without a token it asks the user). A lookup that
            # answers late — after a sign-in, or a sign-out — leaves alone what waits for the next token.
            pending = self._after_token if starting else None
            if starting:
                self._after_token = None
            self.changed.emit()
            if pending is not None:
                pending()
            elif starting and self._sign_in_prompt is not None and not self._prompting():
                # First run (or signed out last time): nothing stored at all. Invite the user in.
                self._sign_in_prompt.prompt()
        elif op == KeyringOp.SET:
            if result.status is TokenStatus.STORED:
                self._stored_in_keyring = True
                if isinstance(self._credential, str):
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
        """Stop answering (a token being stored is still waited for), close the client. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._bridge.shutdown()
        if self._client is not None:
            self._client.close()
        self._credential = None

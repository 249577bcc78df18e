"""One sign-in attempt from start to tokens, for a GUI worker thread or the CLI (no Qt, no keyring).

    flow = SignInFlow(oauth, AppCredentials(app_id, app_key), page=CallbackPage.default(lang))
    url = flow.start()           # binds 127.0.0.1:<port> (AuthError PORT_IN_USE); open the browser at url
    tokens = flow.wait()         # blocks: the callback, then the code exchange (AuthError on failure)
    # … or, when the browser runs elsewhere, from any thread:
    tokens = flow.complete(pasted_redirect_url)   # stops the listener, checks the state, exchanges
    flow.cancel()                # from any thread: wait() raises AuthError(CANCELLED)

The code is exchanged at most once, whichever way it arrived. The state never leaves this object except
inside the authorization URL.
"""

from __future__ import annotations

import threading
from types import TracebackType

from kdocs_viewer.core.auth import (
    AppCredentials,
    AuthReason,
    AuthRequest,
    OAuthClient,
    TokenSet,
    auth_error,
    new_state,
    parse_callback,
    redirect_uri_for,
)
from kdocs_viewer.core.contract import DEFAULT_CALLBACK_PORT
from kdocs_viewer.core.oauth_listener import DEFAULT_TIMEOUT, CallbackListener, CallbackPage

__all__ = ["SignInFlow"]


class SignInFlow:
    """One attempt to sign in with ``app`` at ``oauth``'s base URL (see the module docstring).

    ``listen=False`` starts no listener: the user pastes the address the browser was sent to (a headless or
    remote browser); ``port`` must then be the registered one. ``port=0`` listens on any free port (tests).
    ``timeout`` bounds the wait for the browser (5 minutes).
    """

    def __init__(
        self,
        oauth: OAuthClient,
        app: AppCredentials,
        *,
        port: int = DEFAULT_CALLBACK_PORT,
        listen: bool = True,
        page: CallbackPage | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not listen and port == 0:
            raise ValueError("without a listener the port must be the registered one, not 0")
        self.oauth = oauth
        self.app = app
        self.timeout = timeout
        self._port = port
        self._listen = listen
        self._page = page
        self._request: AuthRequest | None = None
        self._listener: CallbackListener | None = None
        self._lock = threading.Lock()
        self._exchanging = False
        self._cancelled = False

    def __repr__(self) -> str:
        return f"<SignInFlow app_id={self.app.app_id!r} {'started' if self._request else 'new'}>"

    @property
    def authorization_url(self) -> str:
        if self._request is None:
            raise RuntimeError("start() the sign-in first")
        return self._request.url

    @property
    def redirect_uri(self) -> str:
        """The callback address to register in the developer console (the actual port once listening)."""
        if self._listener is not None:
            return self._listener.redirect_uri
        return redirect_uri_for(self._port)

    def start(self) -> str:
        """Start listening (unless pasting) and return the authorization URL for the browser."""
        if self._request is not None:
            raise RuntimeError("this sign-in was started already")
        state = new_state()
        if self._listen:
            listener = CallbackListener(state, port=self._port, page=self._page, timeout=self.timeout)
            self._listener = listener.start()
            redirect_uri = listener.redirect_uri
        else:
            redirect_uri = redirect_uri_for(self._port)
        self._request = AuthRequest.create(self.oauth.base_url, self.app.app_id, redirect_uri, state)
        return self._request.url

    def wait(self) -> TokenSet:
        """Wait for the browser's callback, then exchange its code. Raises AuthError."""
        listener = self._listener
        if listener is None:
            raise RuntimeError("this sign-in has no listener: use complete() with the pasted address")
        code = listener.wait()
        return self._exchange(code)

    def complete(self, pasted: str) -> TokenSet:
        """Finish with the address the browser was sent to (or its query). Raises AuthError; the listener,
        if any, stops (its ``wait()`` raises CANCELLED)."""
        request = self._request
        if request is None:
            raise RuntimeError("start() the sign-in first")
        code = parse_callback(pasted, request.state)
        if self._listener is not None:
            self._listener.cancel()
        return self._exchange(code)

    def _exchange(self, code: str) -> TokenSet:
        with self._lock:
            if self._cancelled or self._exchanging:  # cancelled, or the other way got there first
                raise auth_error(AuthReason.CANCELLED)
            self._exchanging = True
        return self.oauth.exchange_code(self.app, code)

    def cancel(self) -> None:
        """Stop waiting (from any thread): ``wait()`` raises AuthError(CANCELLED); the port is released.
        An exchange already under way finishes."""
        with self._lock:
            self._cancelled = True
        if self._listener is not None:
            self._listener.cancel()

    def close(self) -> None:
        """Release the port; idempotent."""
        if self._listener is not None:
            self._listener.close()

    def __enter__(self) -> SignInFlow:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

"""Keeping a signed-in user's access token fresh, for any number of threads (no Qt).

``TokenRefresher`` is the ``TokenProvider`` a ``KDocsClient`` takes instead of a fixed token: every call asks
it for the current token, and it refreshes the token *before* it expires (inside ``TokenSet.refresh_margin``)
and once when the API rejects it (20007 or HTTP 401). One refresh runs at a time: callers that need it wait
on a condition until it lands, then all go on with the new token. Once KDocs refuses the refresh token
(revoked, expired, wrong APPKEY) the refresher is *failed*: every caller gets ``SignInRequiredError`` at
once, without another request, until ``replace()`` installs the tokens of a new sign-in.

A refresh that fails for a passing reason (network, server error) is not the user's problem yet: the
current token is used while it still works, and the next try waits ``retry_after`` seconds so that a
struggling server is not asked by every call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from kdocs_viewer.core.api import KDocsError
from kdocs_viewer.core.auth import (
    AppCredentials,
    AuthError,
    AuthReason,
    OAuthClient,
    SignIn,
    SignInRequiredError,
    TokenSet,
    auth_error,
)

__all__ = ["TokenRefresher"]

log = logging.getLogger(__name__)

RETRY_AFTER_FAILURE = 30.0  # seconds before another refresh after one failed for a passing reason


class TokenRefresher:
    """Thread-safe provider of a signed-in user's access token (see the module docstring).

    ``refresh(refresh_token)`` gets new tokens (``OAuthClient.refresh`` for the app, see ``for_sign_in``);
    it raises ``SignInRequiredError`` when the refresh token is refused and another ``KDocsError`` when it
    could not be asked. ``on_refreshed(tokens)`` runs after each successful refresh (to store the new
    tokens), on the thread that refreshed, one at a time and in order; its exceptions are logged.
    """

    def __init__(
        self,
        tokens: TokenSet,
        refresh: Callable[[str], TokenSet],
        *,
        on_refreshed: Callable[[TokenSet], None] | None = None,
        clock: Callable[[], float] = time.time,
        retry_after: float = RETRY_AFTER_FAILURE,
    ) -> None:
        self._refresh = refresh
        self._on_refreshed = on_refreshed
        self._clock = clock
        self._retry_after = retry_after
        self._cond = threading.Condition()
        self._save_lock = threading.Lock()
        self._tokens = tokens
        self._in_flight = False
        self._failed: SignInRequiredError | None = None
        self._transient: KDocsError | None = None  # the last passing failure, while retries wait
        self._next_try = 0.0
        self._refreshes = 0

    @classmethod
    def for_sign_in(
        cls,
        oauth: OAuthClient,
        sign_in: SignIn,
        *,
        on_refreshed: Callable[[TokenSet], None] | None = None,
    ) -> TokenRefresher:
        """A refresher that renews ``sign_in``'s tokens at ``oauth`` with its app's credentials."""
        app: AppCredentials = sign_in.app

        def refresh(refresh_token: str) -> TokenSet:
            return oauth.refresh(app, refresh_token)

        return cls(sign_in.tokens, refresh, on_refreshed=on_refreshed)

    def __repr__(self) -> str:
        return f"<TokenRefresher refreshes={self.refreshes} failed={self.failed is not None}>"

    # ---- state -------------------------------------------------------------------------------------------

    @property
    def tokens(self) -> TokenSet:
        """The current tokens (for storing, or for showing when they expire)."""
        with self._cond:
            return self._tokens

    @property
    def refreshes(self) -> int:
        """Successful refreshes so far."""
        with self._cond:
            return self._refreshes

    @property
    def failed(self) -> AuthReason | None:
        """Why the sign-in ended (a new sign-in is needed), or None while it works."""
        with self._cond:
            return self._failed.auth_reason if self._failed is not None else None

    def replace(self, tokens: TokenSet) -> None:
        """Use the tokens of a new sign-in; clears a failure. Waiting callers go on with these."""
        with self._cond:
            self._tokens = tokens
            self._failed = None
            self._transient = None
            self._next_try = 0.0
            self._cond.notify_all()

    # ---- TokenProvider -----------------------------------------------------------------------------------

    def current(self) -> str:
        """A token good for the next call: refreshed first when due (one refresh for all callers)."""
        with self._cond:
            while True:
                self._raise_if_failed()
                tokens, now = self._tokens, self._clock()
                if not tokens.refresh_due(now):
                    return tokens.access_token
                if self._in_flight:
                    self._cond.wait()
                    continue
                if now < self._next_try:  # a refresh failed for a passing reason a moment ago
                    if not tokens.is_expired(now):
                        return tokens.access_token
                    assert self._transient is not None
                    raise _copy(self._transient)
                self._in_flight = True
                break
        return self._run(tokens, forced=False)

    def rejected(self, token: str) -> None:
        """The API refused ``token``: refresh once — unless another caller already replaced it."""
        with self._cond:
            while True:
                self._raise_if_failed()
                if self._tokens.access_token != token:
                    return  # already renewed since that call was made
                if self._in_flight:
                    self._cond.wait()
                    continue
                self._in_flight = True
                tokens = self._tokens
                break
        self._run(tokens, forced=True)

    # ---- machinery ---------------------------------------------------------------------------------------

    def _raise_if_failed(self) -> None:
        if self._failed is not None:
            raise _copy(self._failed)

    def _run(self, stale: TokenSet, *, forced: bool) -> str:
        """Refresh outside the lock (this thread owns the flight); wake the waiters whatever happens."""
        failure: KDocsError | None = None
        try:
            if not stale.refresh_token:
                raise auth_error(AuthReason.REFRESH_REJECTED)
            new = self._refresh(stale.refresh_token)
        except KDocsError as exc:
            failure = exc
        except BaseException:
            with self._cond:
                self._in_flight = False
                self._cond.notify_all()
            raise
        if failure is not None:  # handled out here: what is raised has no __context__
            return self._failed_with(failure, stale, forced=forced)
        with self._save_lock:  # taken before the flight ends, so saves happen in refresh order
            with self._cond:
                self._in_flight = False
                self._cond.notify_all()
                if self._tokens is not stale:  # replace() came first: a new sign-in wins
                    return self._tokens.access_token
                self._tokens = new
                self._transient = None
                self._next_try = 0.0
                self._refreshes += 1
            log.debug("access token refreshed; it lives %.0f s", new.lifetime)
            if self._on_refreshed is not None:
                try:
                    self._on_refreshed(new)
                except Exception as exc:  # storing failed: the tokens still work for this session
                    log.warning("the refreshed tokens could not be stored: %s", type(exc).__name__)
        return new.access_token

    def _failed_with(self, failure: KDocsError, stale: TokenSet, *, forced: bool) -> str:
        if isinstance(failure, SignInRequiredError):
            with self._cond:
                if self._tokens is stale:  # not when replace() brought a new sign-in meanwhile
                    self._failed = failure
                self._in_flight = False
                self._cond.notify_all()
            log.info("token refresh refused: %s", failure.auth_reason.value)
            raise _copy(failure)
        now = self._clock()
        with self._cond:
            if self._tokens is stale:
                self._transient = failure
                self._next_try = now + self._retry_after
            self._in_flight = False
            self._cond.notify_all()
        log.info("token refresh failed, will retry in %.0f s: %s", self._retry_after, failure)
        if forced or stale.is_expired(now):
            raise _copy(failure)
        return stale.access_token


def _copy(exc: KDocsError) -> KDocsError:
    """A fresh exception of the same kind and text: one instance raised in several threads would share (and
    keep growing) one traceback."""
    if isinstance(exc, AuthError):
        return type(exc)(
            exc.auth_reason, exc.message, code=exc.code, status=exc.status, server_text=exc.server_text
        )
    return type(exc)(
        exc.message, code=exc.code, status=exc.status, server_text=exc.server_text, reason=exc.reason
    )

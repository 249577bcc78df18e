"""The token provider of a signed-in client: one object for the window's life, a refresher behind it.

Qt-free, so the core's client can hold it; the GUI's ``SignInController`` swaps what is behind it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # httpx loads after the first paint
    from kdocs_viewer.core.token_refresh import TokenRefresher

__all__ = ["SignedInTokens"]


class SignedInTokens:
    """The window client's ``TokenProvider`` while signed in: the current sign-in's ``TokenRefresher``.

    One object for the window's life, so a new sign-in (even with another app) only swaps what is behind it.
    Signed out, every call fails at once with "not signed in" (a ``SignInRequiredError``). Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refresher: TokenRefresher | None = None

    def install(self, refresher: TokenRefresher | None) -> None:
        with self._lock:
            self._refresher = refresher

    @property
    def refresher(self) -> TokenRefresher | None:
        with self._lock:
            return self._refresher

    def _current(self) -> TokenRefresher:
        refresher = self.refresher
        if refresher is None:
            from kdocs_viewer.core.auth import AuthReason, auth_error

            raise auth_error(AuthReason.NOT_SIGNED_IN)
        return refresher

    def current(self) -> str:
        return self._current().current()

    def rejected(self, token: str) -> None:
        self._current().rejected(token)

    def __repr__(self) -> str:
        return f"<SignedInTokens {self.refresher!r}>"

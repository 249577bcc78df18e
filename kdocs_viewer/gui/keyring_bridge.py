"""Keyring calls off the GUI thread, answers back on it.

``TokenStore`` already bounds each call with a timeout, but even a few seconds would freeze the window, and
the first ``keyring`` call may probe D-Bus. So every call — the pasted token's get/set/delete and the
sign-in's load/save/clear (``SignInStore`` over the same store) — runs as a job on a one-thread
``WorkerPool`` owned by the bridge (calls stay in order: a "set" never overtakes the "get" before it). The job
emits on a relay created in the GUI thread; the relay's queued signal reaches ``KeyringBridge`` slots there,
which re-emit ``finished(op, result)``: a ``TokenResult`` for the token's ops, a ``SignInResult`` for the
sign-in's. Any exception becomes an ``ERROR`` result, never a crash.

Without a store given, the bridge makes the default ``TokenStore`` on its worker at the first call: importing
``keyring`` (~70 ms with its backends' dependencies) then never holds up the window's first paint.

At close (``shutdown``) a write still to do is waited for, bounded by the store's timeout: a token being
stored must reach the keyring. A read is not: a locked keyring's unlock prompt, or a keyring that does not
answer, held the window's close for the store's whole timeout. Its thread is a daemon and ends on its own.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from kdocs_viewer.core.redact import redact, register_secret
from kdocs_viewer.gui.retired import retire
from kdocs_viewer.gui.worker_pool import WorkerPool

if TYPE_CHECKING:
    from kdocs_viewer.core.auth import SignIn
    from kdocs_viewer.core.secrets import SignInStore, TokenStore

__all__ = ["KeyringBridge", "KeyringOp"]

log = logging.getLogger(__name__)

DEFAULT_STORE_TIMEOUT = 5.0  # seconds: TokenStore's default, for shutdown() before the store was made


class KeyringOp:
    GET = "get"
    SET = "set"
    DELETE = "delete"
    SIGN_IN_LOAD = "sign-in load"
    SIGN_IN_SAVE = "sign-in save"
    SIGN_IN_CLEAR = "sign-in clear"


_SIGN_IN_OPS = (KeyringOp.SIGN_IN_LOAD, KeyringOp.SIGN_IN_SAVE, KeyringOp.SIGN_IN_CLEAR)
_WRITES = frozenset({KeyringOp.SET, KeyringOp.DELETE, KeyringOp.SIGN_IN_SAVE, KeyringOp.SIGN_IN_CLEAR})


class _Relay(QObject):
    """Lives in the GUI thread; workers emit on it, so delivery to the bridge is queued."""

    done = Signal(str, object)


class _Writes:
    """Writes not finished yet, counted by the jobs themselves; ``wait`` for none left."""

    def __init__(self) -> None:
        self._left = 0
        self._cond = threading.Condition()

    def add(self) -> None:
        with self._cond:
            self._left += 1

    def done(self) -> None:
        with self._cond:
            self._left -= 1
            self._cond.notify_all()

    def wait(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._left == 0, timeout)


class _KeyringJob:
    """One keyring operation: ``work(store)`` on the pool's thread. The secrets it carries were registered
    with ``core.redact`` before it started, so an error text that echoes one is masked."""

    def __init__(
        self,
        relay: _Relay,
        store: Callable[[], TokenStore],
        op: str,
        work: Callable[[TokenStore], object],
        writes: _Writes,
    ) -> None:
        self._writes = writes
        self._relay = relay
        self._store = store
        self._op = op
        self._work: Callable[[TokenStore], object] | None = work

    def run(self) -> None:
        from kdocs_viewer.core.secrets import SignInResult, TokenResult, TokenStatus

        work, self._work = self._work, None
        assert work is not None
        result: object
        try:
            result = work(self._store())
        except Exception as exc:  # reported as a state, the window never sees an exception
            detail = redact(f"{type(exc).__name__}: {exc}")
            if self._op in _SIGN_IN_OPS:
                result = SignInResult(TokenStatus.ERROR, None, "keyring", detail)
            else:
                result = TokenResult(TokenStatus.ERROR, None, "keyring", detail)
        finally:
            if self._op in _WRITES:
                self._writes.done()
        # RuntimeError: the bridge was deleted while this call hung; nobody is listening any more.
        with contextlib.suppress(RuntimeError):
            self._relay.done.emit(self._op, result)


class KeyringBridge(QObject):
    """Asynchronous front of a ``TokenStore`` for the GUI. Owns its worker thread; call ``shutdown``."""

    finished = Signal(str, object)  # (KeyringOp, TokenResult or SignInResult)

    def __init__(self, store: TokenStore | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._store_lock = threading.Lock()
        self._pool = WorkerPool("kdocs-token-bridge", 1)  # one thread: calls stay in order
        self._writes = _Writes()
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_done)
        self._pending = 0
        self._closed = threading.Event()

    @property
    def store(self) -> TokenStore:
        """The store (made now, on the calling thread, if no call has made it yet)."""
        return self._the_store()

    def _the_store(self) -> TokenStore:
        with self._store_lock:
            if self._store is None:
                from kdocs_viewer.core.secrets import TokenStore

                self._store = TokenStore()
            return self._store

    def pending(self) -> int:
        """Calls started and not answered yet."""
        return self._pending

    def get(self, base_url: str) -> None:
        self._start(KeyringOp.GET, lambda store: store.get(base_url))

    def set(self, base_url: str, token: str) -> None:
        self._start(KeyringOp.SET, lambda store: store.set(base_url, token), token)

    def delete(self, base_url: str) -> None:
        self._start(KeyringOp.DELETE, lambda store: store.delete(base_url))

    def load_sign_in(self, base_url: str) -> None:
        """The sign-in stored for ``base_url``: ``finished(SIGN_IN_LOAD, SignInResult)``."""
        self._start(KeyringOp.SIGN_IN_LOAD, lambda store: _sign_ins(store).load(base_url))

    def save_sign_in(self, base_url: str, sign_in: SignIn) -> None:
        """Store ``sign_in`` (tokens, APPKEY) for ``base_url``: ``finished(SIGN_IN_SAVE, SignInResult)``."""
        hidden = (sign_in.app.app_key, sign_in.tokens.access_token, sign_in.tokens.refresh_token)
        self._start(KeyringOp.SIGN_IN_SAVE, lambda store: _sign_ins(store).save(base_url, sign_in), *hidden)

    def clear_sign_in(self, base_url: str) -> None:
        """Remove the sign-in of ``base_url`` (both entries): ``finished(SIGN_IN_CLEAR, SignInResult)``."""
        self._start(KeyringOp.SIGN_IN_CLEAR, lambda store: _sign_ins(store).clear(base_url))

    def _start(self, op: str, work: Callable[[TokenStore], object], *hidden: str) -> None:
        if self._closed.is_set():
            return
        for secret in hidden:
            register_secret(secret)  # before any worker could quote it
        self._pending += 1
        if op in _WRITES:
            self._writes.add()
        self._pool.start(_KeyringJob(self._relay, self._the_store, op, work, self._writes).run)

    @Slot(str, object)
    def _on_done(self, op: str, result: object) -> None:
        self._pending = max(0, self._pending - 1)
        if self._closed.is_set():
            return
        from kdocs_viewer.core.secrets import SignInResult, TokenResult  # loaded by the worker that answered

        if isinstance(result, TokenResult | SignInResult):
            log.info("keyring %s: %s via %s", op, result.status.value, result.backend)
        self.finished.emit(op, result)

    def shutdown(self, timeout_ms: int | None = None) -> bool:
        """Stop answering; wait for the writes still to do (a read before one runs too), at most
        ``timeout_ms`` (default: about the store's timeout), never for a read alone. Idempotent.

        Returns False when a write was still running or queued at the deadline.
        """
        self._closed.set()
        if timeout_ms is None:
            with self._store_lock:  # no store yet: no call ever ran, only the first one may be making it
                timeout = self._store.timeout if self._store is not None else DEFAULT_STORE_TIMEOUT
            timeout_ms = int((timeout + 1.0) * 1000)
        written = self._writes.wait(timeout_ms / 1000)
        self._pool.shutdown(wait=False)  # drops what is queued: reads, and writes past the deadline
        retire(self._relay, self._pool.busy)
        return written


def _sign_ins(store: TokenStore) -> SignInStore:
    """A ``SignInStore`` over ``store`` (made on the worker: importing it loads keyring)."""
    from kdocs_viewer.core.secrets import SignInStore

    return SignInStore(store)

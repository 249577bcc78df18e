"""Keyring calls off the GUI thread, answers back on it.

``TokenStore`` already bounds each call with a timeout, but even a few seconds would freeze the window, and
the first ``keyring`` call may probe D-Bus. So every get/set/delete runs as a ``QRunnable`` in a one-thread
pool owned by the bridge (calls stay in order: a "set" never overtakes the "get" before it). The runnable
emits on a relay created in the GUI thread; the relay's queued signal reaches ``KeyringBridge`` slots there,
which re-emit ``finished(op, TokenResult)``. Any exception becomes an ``ERROR`` result, never a crash.

Without a store given, the bridge makes the default ``TokenStore`` on its worker at the first call: importing
``keyring`` (~70 ms with its backends' dependencies) then never holds up the window's first paint.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from kdocs_viewer.core.redact import redact, register_secret

if TYPE_CHECKING:
    from kdocs_viewer.core.secrets import TokenStore

__all__ = ["KeyringBridge", "KeyringOp"]

log = logging.getLogger(__name__)

DEFAULT_STORE_TIMEOUT = 5.0  # seconds: TokenStore's default, for shutdown() before the store was made


class KeyringOp:
    GET = "get"
    SET = "set"
    DELETE = "delete"


class _Relay(QObject):
    """Lives in the GUI thread; workers emit on it, so delivery to the bridge is queued."""

    done = Signal(str, object)


class _KeyringJob(QRunnable):
    def __init__(
        self, relay: _Relay, store: Callable[[], TokenStore], op: str, base_url: str, token: str | None
    ) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._relay = relay
        self._store = store
        self._op = op
        self._base_url = base_url
        self._token = token

    def run(self) -> None:
        from kdocs_viewer.core.secrets import TokenResult, TokenStatus

        try:
            store = self._store()
            if self._op == KeyringOp.GET:
                result = store.get(self._base_url)
            elif self._op == KeyringOp.SET:
                result = store.set(self._base_url, self._token or "")
            else:
                result = store.delete(self._base_url)
        except Exception as exc:  # reported as a state, the window never sees an exception
            result = TokenResult(TokenStatus.ERROR, None, "keyring", redact(f"{type(exc).__name__}: {exc}"))
        finally:
            self._token = None
        # RuntimeError: the bridge was deleted while this call hung; nobody is listening any more.
        with contextlib.suppress(RuntimeError):
            self._relay.done.emit(self._op, result)


class KeyringBridge(QObject):
    """Asynchronous front of a ``TokenStore`` for the GUI. Owns its worker thread; call ``shutdown``."""

    finished = Signal(str, object)  # (KeyringOp, TokenResult)

    def __init__(self, store: TokenStore | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._store_lock = threading.Lock()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._pool.setExpiryTimeout(1000)
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
        self._start(KeyringOp.GET, base_url, None)

    def set(self, base_url: str, token: str) -> None:
        register_secret(token)  # before any worker could quote it
        self._start(KeyringOp.SET, base_url, token)

    def delete(self, base_url: str) -> None:
        self._start(KeyringOp.DELETE, base_url, None)

    def _start(self, op: str, base_url: str, token: str | None) -> None:
        if self._closed.is_set():
            return
        self._pending += 1
        self._pool.start(_KeyringJob(self._relay, self._the_store, op, base_url, token))

    @Slot(str, object)
    def _on_done(self, op: str, result: object) -> None:
        self._pending = max(0, self._pending - 1)
        if self._closed.is_set():
            return
        from kdocs_viewer.core.secrets import TokenResult  # loaded by the worker that answered

        if isinstance(result, TokenResult):
            log.info("keyring %s: %s via %s", op, result.status.value, result.backend)
        self.finished.emit(op, result)

    def shutdown(self, timeout_ms: int | None = None) -> bool:
        """Stop answering and wait for the worker (at most about the store's timeout per queued call).

        Returns False when the worker was still busy at the deadline.
        """
        self._closed.set()
        self._pool.clear()
        if timeout_ms is None:
            with self._store_lock:  # no store yet: no call ever ran, only the first one may be making it
                timeout = self._store.timeout if self._store is not None else DEFAULT_STORE_TIMEOUT
            timeout_ms = int((timeout + 1.0) * 1000)
        return bool(self._pool.waitForDone(timeout_ms))

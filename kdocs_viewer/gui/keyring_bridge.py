"""Keyring calls off the GUI thread, answers back on it.

``TokenStore`` already bounds each call with a timeout, but even a few seconds would freeze the window, and
the first ``keyring`` call may probe D-Bus. So every get/set/delete runs as a ``QRunnable`` in a one-thread
pool owned by the bridge (calls stay in order: a "set" never overtakes the "get" before it). The runnable
emits on a relay created in the GUI thread; the relay's queued signal reaches ``KeyringBridge`` slots there,
which re-emit ``finished(op, TokenResult)``. Any exception becomes an ``ERROR`` result, never a crash.
"""

from __future__ import annotations

import contextlib
import logging
import threading

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from kdocs_viewer.core.redact import redact
from kdocs_viewer.core.secrets import TokenResult, TokenStatus, TokenStore

__all__ = ["KeyringBridge", "KeyringOp"]

log = logging.getLogger(__name__)


class KeyringOp:
    GET = "get"
    SET = "set"
    DELETE = "delete"


class _Relay(QObject):
    """Lives in the GUI thread; workers emit on it, so delivery to the bridge is queued."""

    done = Signal(str, object)


class _KeyringJob(QRunnable):
    def __init__(self, relay: _Relay, store: TokenStore, op: str, base_url: str, token: str | None) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._relay = relay
        self._store = store
        self._op = op
        self._base_url = base_url
        self._token = token

    def run(self) -> None:
        try:
            if self._op == KeyringOp.GET:
                result = self._store.get(self._base_url)
            elif self._op == KeyringOp.SET:
                result = self._store.set(self._base_url, self._token or "")
            else:
                result = self._store.delete(self._base_url)
        except Exception as exc:  # reported as a state, the window never sees an exception
            text = str(exc)
            if self._token:
                text = text.replace(self._token, "…")
            result = TokenResult(TokenStatus.ERROR, None, "keyring", redact(f"{type(exc).__name__}: {text}"))
        finally:
            self._token = None
        # RuntimeError: the bridge was deleted while this call hung; nobody is listening any more.
        with contextlib.suppress(RuntimeError):
            self._relay.done.emit(self._op, result)


class KeyringBridge(QObject):
    """Asynchronous front of a ``TokenStore`` for the GUI. Owns its worker thread; call ``shutdown``."""

    finished = Signal(str, object)  # (KeyringOp, TokenResult)

    def __init__(self, store: TokenStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._pool.setExpiryTimeout(1000)
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_done)
        self._pending = 0
        self._closed = threading.Event()

    @property
    def store(self) -> TokenStore:
        return self._store

    def pending(self) -> int:
        """Calls started and not answered yet."""
        return self._pending

    def get(self, base_url: str) -> None:
        self._start(KeyringOp.GET, base_url, None)

    def set(self, base_url: str, token: str) -> None:
        self._start(KeyringOp.SET, base_url, token)

    def delete(self, base_url: str) -> None:
        self._start(KeyringOp.DELETE, base_url, None)

    def _start(self, op: str, base_url: str, token: str | None) -> None:
        if self._closed.is_set():
            return
        self._pending += 1
        self._pool.start(_KeyringJob(self._relay, self._store, op, base_url, token))

    @Slot(str, object)
    def _on_done(self, op: str, result: object) -> None:
        self._pending = max(0, self._pending - 1)
        if self._closed.is_set():
            return
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
            timeout_ms = int((self._store.timeout + 1.0) * 1000)
        return bool(self._pool.waitForDone(timeout_ms))

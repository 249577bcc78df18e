"""Closing an HTTP client that worker threads may be using, without pulling sockets out from under them.

``httpx.Client.close()`` closes every connection at once, also one a worker is reading a response from.
That does not wake the worker (on Linux a socket stays open while a thread polls it), and a worker just
about to read then reads from a freed descriptor number, which the next file or socket opened anywhere in
the process may have taken: its GET waits for the read timeout on somebody else's socket. So the client is
closed by whoever is last: ``close()`` when no call is using it, else the last call as it ends. The caller
of ``close()`` never waits either way (closing a workbook never waits for the network).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["ClientClosed", "ClientGate"]

log = logging.getLogger(__name__)


class ClientClosed(Exception):
    """The client was closed before this call started using it."""


class ClientGate:
    """Counts the calls using a client and runs ``close`` once, when it is closed and the last call ended."""

    def __init__(self, close: Callable[[], None]) -> None:
        self._close = close
        self._lock = threading.Lock()
        self._users = 0
        self._closing = False

    @property
    def closed(self) -> bool:
        """``close()`` was called (the client itself may still serve calls that started before)."""
        with self._lock:
            return self._closing

    @contextmanager
    def use(self) -> Iterator[None]:
        """Keep the client open while the block runs; ClientClosed once ``close()`` was called."""
        with self._lock:
            if self._closing:
                raise ClientClosed
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                last = self._closing and self._users == 0
            if last:
                self._close_now()

    def close(self) -> None:
        """No new calls; the client is closed now if none is running, else by the last one. Idempotent."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            idle = self._users == 0
        if idle:
            self._close_now()

    def _close_now(self) -> None:
        """Close, on whichever thread is last: a failure is logged, not raised into a call that succeeded."""
        try:
            self._close()
        except Exception:
            log.exception("closing an HTTP client failed")

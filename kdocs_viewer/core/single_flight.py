"""Single-flight: one piece of work per key, shared by everyone who asks for that key while it runs.

Kept apart from ``PictureSession`` because the rule is about threads and cancellation, not pictures: the
shared work stops only when *every* participant has cancelled (or the owner closes), and a participant who
joined a flight just as all the others gave up starts its own instead of inheriting their cancellation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from kdocs_viewer.core.download import CancelFlag, DownloadCancelled
from kdocs_viewer.core.i18n import translate

__all__ = ["SingleFlight", "wait_or_cancel"]

T = TypeVar("T")
_POLL = 0.05  # how often waiting threads look at their cancel flag


class _SharedCancel:
    """Cancel flag of a shared download: set only when *every* participant has cancelled (or on close).

    A participant without a cancel flag can never cancel, so its presence keeps the download going.
    """

    def __init__(self, closing: threading.Event) -> None:
        self._closing = closing
        self._flags: list[CancelFlag | None] = []
        self._lock = threading.Lock()

    def join(self, flag: CancelFlag | None) -> None:
        with self._lock:
            self._flags.append(flag)

    def is_set(self) -> bool:
        if self._closing.is_set():
            return True
        with self._lock:
            flags = list(self._flags)
        return bool(flags) and all(flag is not None and flag.is_set() for flag in flags)

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.is_set():
            left = _POLL if deadline is None else min(_POLL, deadline - time.monotonic())
            if left <= 0:
                return False
            self._closing.wait(left)
        return True


class _Flight:
    """One download in progress, shared by everyone who asked for the same picture meanwhile."""

    __slots__ = ("cancel", "data", "done", "error")

    def __init__(self, closing: threading.Event) -> None:
        self.cancel = _SharedCancel(closing)
        self.done = threading.Event()
        self.data: object = None
        self.error: BaseException | None = None


def wait_or_cancel(event: threading.Event, cancel: CancelFlag | None, closing: threading.Event) -> None:
    """Wait for ``event``; raise DownloadCancelled as soon as ``cancel`` is set or the session closes."""
    while not event.wait(_POLL):
        if cancel is not None and cancel.is_set():
            raise DownloadCancelled(translate("session", "cancelled"))
        if closing.is_set() and not event.is_set():
            raise DownloadCancelled(translate("session", "the picture session was closed"))


class SingleFlight:
    """Runs work once per key for everyone asking meanwhile; see the module docstring for cancellation."""

    def __init__(self, closing: threading.Event) -> None:
        self._closing = closing
        self._lock = threading.Lock()
        self._flights: dict[Hashable, _Flight] = {}

    def running(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._flights

    def run(self, key: Hashable, cancel: CancelFlag | None, work: Callable[[CancelFlag], T]) -> T:
        """Run ``work`` once for everyone asking for ``key`` meanwhile; its cancel flag is set only when all
        of them have cancelled."""
        while True:
            with self._lock:
                flight = self._flights.get(key)
                owner = flight is None
                if flight is None:
                    flight = self._flights[key] = _Flight(self._closing)
                flight.cancel.join(cancel)
            if owner:
                try:
                    flight.data = work(flight.cancel)
                except BaseException as exc:
                    flight.error = exc
                finally:
                    with self._lock:
                        del self._flights[key]
                    flight.done.set()
            else:
                wait_or_cancel(flight.done, cancel, self._closing)
            if flight.error is None:
                return flight.data  # type: ignore[return-value]  # what this key's work returns
            if (
                not owner
                and isinstance(flight.error, DownloadCancelled)
                and not (cancel is not None and cancel.is_set())
                and not self._closing.is_set()
            ):
                continue  # joined a download just as all its other callers gave up: start our own
            raise flight.error

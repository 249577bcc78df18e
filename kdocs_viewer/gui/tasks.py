"""Small one-off background calls (find pictures, read a file, parse a list, sign-in steps).

``BackgroundCalls.submit(kind, fn)`` runs ``fn()`` on a private ``WorkerPool`` and delivers a ``TaskResult``
on the GUI thread through a relay object created there (never a lambda connected to a worker signal). Each
submit gets a generation number per kind, so its owner can drop answers that a newer request replaced.

``shutdown`` sets the shared cancel flag and returns: most calls are API calls, and one already on the wire
ends only when the server answers (closing the window during "Find pictures" on a slow line froze it until
then). Its thread ends on its own, a daemon that never holds the process at exit; ``gui.retired`` keeps the
relay until then. Calls here write no files, so abandoning them leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from kdocs_viewer.gui.retired import retire
from kdocs_viewer.gui.worker_pool import WorkerPool

__all__ = ["BackgroundCalls", "TaskResult"]


@dataclass(frozen=True)
class TaskResult:
    kind: str
    generation: int
    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class _Relay(QObject):
    done = Signal(object)


class _Call:
    def __init__(self, relay: _Relay, kind: str, generation: int, fn: Callable[[], Any]) -> None:
        self._relay = relay
        self._kind = kind
        self._generation = generation
        self._fn: Callable[[], Any] | None = fn

    def run(self) -> None:
        fn, self._fn = self._fn, None
        assert fn is not None
        try:
            result = TaskResult(self._kind, self._generation, fn())
        except BaseException as exc:  # delivered to the GUI thread as a result, never lost in a worker
            result = TaskResult(self._kind, self._generation, None, exc)
        with contextlib.suppress(RuntimeError):  # owner already deleted: nobody is waiting for the answer
            self._relay.done.emit(result)


class BackgroundCalls(QObject):
    """Owner of a part's background calls; see the module docstring."""

    finished = Signal(object)  # TaskResult, current generations only

    def __init__(self, parent: QObject | None = None, *, max_threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = WorkerPool("kdocs-calls", max_threads)
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_done)
        self._generations: dict[str, int] = {}
        self._busy: dict[str, int] = {}
        self.cancel = threading.Event()

    def submit(self, kind: str, fn: Callable[[], Any]) -> int:
        """Run ``fn`` in the background; earlier answers of the same ``kind`` will be dropped."""
        generation = self._generations.get(kind, 0) + 1
        self._generations[kind] = generation
        self._busy[kind] = self._busy.get(kind, 0) + 1
        self._pool.start(_Call(self._relay, kind, generation, fn).run)
        return generation

    def forget(self, kind: str) -> None:
        """Drop the answer of any ``kind`` call in flight (it still runs to its end)."""
        self._generations[kind] = self._generations.get(kind, 0) + 1

    def is_busy(self, kind: str) -> bool:
        """A call of ``kind`` whose answer is still wanted is running."""
        return self._busy.get(kind, 0) > 0

    def active(self) -> int:
        """Calls queued or running (after ``shutdown``, only those still waiting for an answer)."""
        return self._pool.active()

    @Slot(object)
    def _on_done(self, result: object) -> None:
        if not isinstance(result, TaskResult):
            return
        self._busy[result.kind] = max(0, self._busy.get(result.kind, 0) - 1)
        if self.cancel.is_set() or result.generation != self._generations.get(result.kind):
            return
        self.finished.emit(result)

    def shutdown(self) -> None:
        """Cancel what can be cancelled, drop the calls not started; never waits (see the module docstring).
        Idempotent."""
        self.cancel.set()
        self._pool.shutdown(wait=False)
        retire(self._relay, self._pool.busy)

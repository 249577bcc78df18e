"""Runs ``core.saving.save_batch`` off the GUI thread and reports back on it.

One ``SaveRunner`` per batch. Its worker is a Python thread the runner owns, so ``wait()`` joins it;
``cancel()`` sets the batch's cancel flag, which ``save_batch`` and ``PictureSession.fetch_bytes`` both honour
(in-flight writes remove their ``.part`` file). ``save_batch`` also first removes the part files a killed or
crashed save left in the folder, for the viewer as for ``kdocs-pics``. Progress is relayed at most ~10 times
a second through a relay object created in the GUI thread, so ``progressed``/``finished`` always arrive on the
GUI thread.

Closing the window never waits for a cancelled batch: a fetch already on the wire ends only when the server
answers. ``detach()`` cuts the runner off, and the thread winds down alone (``gui.retired`` keeps its relay);
it is not a daemon, so the process still ends only after the batch has removed its part files.

While a batch runs, the pictures are pinned in the browser (``pin("save", …)``), so their URLs are kept fresh
even when they scroll out of view; the pin is dropped when the batch ends however it ends.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, Signal, Slot

from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.redact import redact
from kdocs_viewer.core.saving import (
    ConflictPolicy,
    SaveItemResult,
    SaveProgress,
    SaveSummary,
    Source,
    save_batch,
)
from kdocs_viewer.gui.retired import retire

__all__ = ["PIN_OWNER", "SaveJob", "SaveRunner", "SaveStatus", "describe", "failed_refs", "refs_in_order"]

log = logging.getLogger(__name__)

PIN_OWNER = "save"
EMIT_INTERVAL = 0.1  # seconds: progress reaches the GUI at most ~10 times a second

Fetch = Callable[[PicRef, threading.Event | None], Source]
OnSaved = Callable[[PicRef, Path], None]



# Downloads in flight, as curl's --parallel-max 8 that the bench compares with; writes run beside them.
SAVE_WORKERS = 8

class Pinner(Protocol):
    """What the runner needs from ``PictureBrowser``."""

    def pin(self, owner: str, idents: set[tuple[str, str]]) -> None: ...


@dataclass(frozen=True)
class SaveJob:
    """What to save and how; kept so "Retry failed" can run the same choices again."""

    refs: tuple[PicRef, ...]
    folder: Path
    template: str
    policy: ConflictPolicy


@dataclass(frozen=True)
class SaveStatus:
    """One progress report: counts, bytes and the average speed so far."""

    done: int
    total: int
    bytes_done: int
    elapsed: float

    @property
    def speed(self) -> float:
        """Bytes per second since the start (0 until some time has passed)."""
        return self.bytes_done / self.elapsed if self.elapsed > 0.05 else 0.0


class _Relay(QObject):
    progressed = Signal(object)
    finished = Signal(object)


class _SaveTask:
    def __init__(
        self,
        job: SaveJob,
        fetch: Fetch,
        on_saved: OnSaved | None,
        cancel: threading.Event,
        relay: _Relay,
        workers: int,
    ) -> None:
        self._job = job
        self._fetch = fetch
        self._on_saved = on_saved
        self._cancel = cancel
        self._relay = relay
        self._workers = workers
        self._started = time.monotonic()
        self._last_emit = float("-inf")

    def _on_progress(self, progress: SaveProgress) -> None:
        now = time.monotonic()
        final = progress.done >= progress.total
        if not final and now - self._last_emit < EMIT_INTERVAL:
            return
        self._last_emit = now
        status = SaveStatus(progress.done, progress.total, progress.bytes_done, now - self._started)
        self._relay.progressed.emit(status)

    def run(self) -> None:
        job = self._job
        try:
            summary: SaveSummary | str = save_batch(
                list(job.refs),
                self._fetch,
                job.folder,
                template=job.template,
                policy=job.policy,
                workers=self._workers,
                progress=self._on_progress,
                cancel=self._cancel,
                on_saved=self._on_saved,
            )
        except Exception as exc:  # a bad folder or template: reported, never raised in a worker
            log.warning("save batch failed: %s", exc)
            summary = redact(str(exc)) or type(exc).__name__
        self._relay.finished.emit(summary)


class SaveRunner(QObject):
    """Saves one batch in the background; see the module docstring.

    ``finished`` carries a ``SaveSummary``, or a ``str`` when the batch could not start at all (for example
    the folder cannot be created).
    """

    progressed = Signal(object)  # SaveStatus
    finished = Signal(object)  # SaveSummary | str

    def __init__(
        self,
        job: SaveJob,
        fetch: Fetch,
        pinner: Pinner | None = None,
        *,
        workers: int = SAVE_WORKERS,
        on_saved: OnSaved | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._job = job
        self._fetch = fetch
        self._on_saved = on_saved
        self._pinner = pinner
        self._workers = workers
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._relay = _Relay(self)
        self._relay.progressed.connect(self._on_progressed)
        self._relay.finished.connect(self._on_finished)
        self._running = False
        self._summary: SaveSummary | str | None = None
        self._started_at = 0.0

    @property
    def job(self) -> SaveJob:
        return self._job

    def is_running(self) -> bool:
        return self._running

    def summary(self) -> SaveSummary | str | None:
        return self._summary

    def start(self) -> None:
        if self._running or self._summary is not None:
            return
        self._running = True
        if self._pinner is not None:
            self._pinner.pin(PIN_OWNER, {ref.ident for ref in self._job.refs})
        task = _SaveTask(self._job, self._fetch, self._on_saved, self._cancel, self._relay, self._workers)
        self._thread = threading.Thread(target=task.run, name="kdocs-save")  # joined at exit: see above
        self._thread.start()

    @Slot()
    def cancel(self) -> None:
        """Stop as soon as possible; pictures not saved yet end as "cancelled", no ``.part`` file stays."""
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Join the worker (after ``cancel``, quick unless a fetch waits on the network). True when it has
        ended."""
        if self._thread is not None:
            self._thread.join(timeout_ms / 1000)
        return not self._worker_alive()

    def detach(self) -> None:
        """(GUI thread, at close) Cancel and stop reporting, without waiting: the worker ends on its own."""
        self.cancel()
        self._relay.progressed.disconnect(self._on_progressed)
        self._relay.finished.disconnect(self._on_finished)
        self._running = False
        retire(self._relay, self._worker_alive)

    def _worker_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @Slot(object)
    def _on_progressed(self, status: object) -> None:
        if isinstance(status, SaveStatus):
            self.progressed.emit(status)

    @Slot(object)
    def _on_finished(self, summary: object) -> None:
        self._running = False
        if self._pinner is not None:
            self._pinner.pin(PIN_OWNER, set())
        self._summary = summary if isinstance(summary, SaveSummary | str) else str(summary)
        self.finished.emit(self._summary)


def failed_refs(summary: SaveSummary) -> list[PicRef]:
    """The pictures "Retry failed" should try again."""
    return [r.ref for r in summary.failed]


def describe(result: SaveItemResult) -> str:
    """One line for the summary list: the picture and, when it did not save, why."""
    label = result.ref.label()
    if result.path is not None and result.status == "saved":
        return f"{label} → {result.path.name}"
    return f"{label}: {redact(result.reason or result.status)}"


def refs_in_order(refs: Sequence[PicRef]) -> tuple[PicRef, ...]:
    """Duplicates removed, order kept (a picture selected twice is saved once)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for ref in refs:
        if ref.ident not in seen:
            seen.add(ref.ident)
            out.append(ref)
    return tuple(out)

"""Dragging tiles out as files: bytes go to a private temporary folder first, off the GUI thread.

A drop target gets ``file://`` URLs of real files — never a signed picture URL, which would leak a
capability and stop working minutes later. When a drag starts, the selected pictures are written (from the
session's memory cache, or fetched) by a worker thread into a fresh sub-folder of a private (0700), locked
``SessionFolder`` beside the originals' (in the cache folder, not /tmp); the GUI keeps painting meanwhile
(user input is held back for that moment), and the drag starts once the files exist. ``shutdown()`` gives
the folder up (renamed aside, deleted on a worker), and does not wait for a writer still fetching (that
ends when the server answers): such a writer removes what it wrote itself. Writers are not daemons, so the
process ends only after they have; after a crash, the next session's sweep deletes the folder.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEventLoop, QMimeData, QObject, QTimer, QUrl, Signal, Slot

from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.redact import redact
from kdocs_viewer.gui.originals import SessionFolder
from kdocs_viewer.gui.retired import retire

if TYPE_CHECKING:  # saving (pathvalidate) and the loader's module are not needed until a drag starts
    from kdocs_viewer.gui.thumbnails import Fetcher

log = logging.getLogger(__name__)

MAX_DRAG_PICTURES = 100  # more than this is a job for "Save selected…", not a drag
WAIT_MS = 2500  # how long a starting drag waits for its files


@dataclass(eq=False)
class _Staging:
    idents: tuple[tuple[str, str], ...]
    folder: Path
    cancel: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    paths: list[Path] | None = None  # set when done
    error: str = ""


class _Signals(QObject):
    finished = Signal(object)  # _Staging


class DragExporter(QObject):
    """Stages pictures as files for a drag; owns its worker thread and its temporary folder."""

    staged = Signal()

    def __init__(self, session: Fetcher, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._folder: SessionFolder | None = None
        self._current: _Staging | None = None
        self._threads: list[_Staging] = []
        self._signals = _Signals(self)
        self._signals.finished.connect(self._on_finished)
        self._counter = 0
        self._closed = False

    def root(self) -> Path | None:
        return self._folder.path if self._folder is not None else None

    def prepare(self, refs: Sequence[PicRef]) -> _Staging | None:
        """Start writing ``refs`` (unless the same set is already staged or on its way)."""
        if self._closed or not refs or len(refs) > MAX_DRAG_PICTURES:
            return None
        idents = tuple(ref.ident for ref in refs)
        current = self._current
        if current is not None and current.idents == idents and not current.error:
            return current
        if current is not None and current.paths is None:
            current.cancel.set()
        if self._folder is None:
            self._folder = SessionFolder()
        self._threads = [s for s in self._threads if s.thread is not None and s.thread.is_alive()]
        self._counter += 1
        folder = self._folder.path / f"{self._counter:04d}"
        staging = _Staging(idents, folder)
        staging.thread = threading.Thread(
            target=self._run, args=(staging, self._folder.path, list(refs)), name="kdocs-drag-export"
        )
        self._current = staging
        self._threads.append(staging)
        staging.thread.start()
        return staging

    def _run(self, staging: _Staging, root: Path, refs: list[PicRef]) -> None:
        from kdocs_viewer.core.saving import DEFAULT_TEMPLATE, ConflictPolicy, save_batch  # on the first drag

        def fetch(ref: PicRef, cancel: threading.Event | None) -> bytes:
            return self._session.fetch_bytes(ref, cancel=cancel)

        try:
            summary = save_batch(
                refs,
                fetch,
                staging.folder,
                template=DEFAULT_TEMPLATE,
                policy=ConflictPolicy.UNIQUIFY,
                workers=4,
                cancel=staging.cancel,
            )
            paths = [result.path for result in summary.saved if result.path is not None]
            if summary.failed and not paths:
                staging.error = summary.failed[0].reason or "failed"
            staging.paths = paths
        except Exception as exc:  # becomes a status message, never a dead worker
            staging.error = redact(str(exc)) or type(exc).__name__
            staging.paths = []
        if self._closed:  # shutdown() has removed the folder already, or is about to: remove what came after
            shutil.rmtree(root, ignore_errors=True)
            return
        self._signals.finished.emit(staging)

    @Slot(object)
    def _on_finished(self, staging: _Staging) -> None:
        if staging is self._current:
            self.staged.emit()

    def mime_for(self, refs: Sequence[PicRef], *, wait_ms: int = WAIT_MS) -> QMimeData | None:
        """File URLs of ``refs`` once written (waiting up to ``wait_ms``), or None (see ``last_error``)."""
        staging = self.prepare(refs)
        if staging is None:
            return None
        if staging.paths is None:
            loop = QEventLoop()
            timer = QTimer()
            timer.setSingleShot(True)
            timer.timeout.connect(loop.quit)
            self.staged.connect(loop.quit)
            timer.start(wait_ms)
            if staging.paths is None:
                loop.exec(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
            self.staged.disconnect(loop.quit)
            timer.stop()
        if not staging.paths:
            return None
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path)) for path in staging.paths])
        return mime

    def last_error(self) -> str:
        current = self._current
        if current is None:
            return ""
        if current.paths is None:
            return self.tr("still writing the files")
        return current.error

    def shutdown(self) -> SessionFolder | None:
        """Cancel the writers, give the folder up; never waits for the network. Idempotent. Returns the
        folder being deleted (``join`` waits for that), if there was one."""
        if self._closed:
            return None
        self._closed = True
        writers = [s.thread for s in self._threads if s.thread is not None]
        for staging in self._threads:
            staging.cancel.set()
        retire(self._signals, lambda: any(thread.is_alive() for thread in writers))
        self._threads.clear()
        self._current = None
        folder, self._folder = self._folder, None
        if folder is not None:
            folder.release()
        return folder

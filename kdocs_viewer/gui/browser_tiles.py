"""``TileCacheSwitch``: the browser's disk cache of tiles — made on first use, switched on or off, cleared.

The cache itself is ``core.thumb_cache``; each workbook sees it through a ``gui.tile_store.TileStore``,
which the thumbnail loader reads tiles from and writes new ones to. Clearing runs on a worker thread (a
folder of thousands of files); ``cleared`` reports it on the GUI thread. The tiles of a picture the API
says is gone are removed too (``forget_gone``), on a worker.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from kdocs_viewer.core.models import Outcome, PicFailure, PicRef
from kdocs_viewer.gui.picture_grid import TILE_BUCKETS
from kdocs_viewer.gui.picture_model import tile_box

if TYPE_CHECKING:
    from kdocs_viewer.core.thumb_cache import ThumbnailDiskCache
    from kdocs_viewer.gui.tile_store import TileStore

log = logging.getLogger(__name__)

# Tiles between sessions (core.thumb_cache): ~25,000 photo tiles at 160 px.
THUMBNAIL_DISK_BUDGET = 256 * 1024 * 1024
FORGET_WAIT_S = 5.0  # at close, for the deletion of gone pictures' tiles

_Forget = tuple["TileStore", list[PicRef], set[int]]  # a store, its gone pictures, the tile sizes


class TileCacheSwitch(QObject):
    """See the module docstring. Lives on the GUI thread; ``cleared`` is emitted from the clearing thread
    and so delivered queued."""

    cleared = Signal(int)  # the disk cache of tiles is empty now; tiles removed

    def __init__(self, cache: ThumbnailDiskCache | None, parent: QObject | None = None) -> None:
        """``cache``: the one to use (None: one in the user's cache folder, made on first use)."""
        super().__init__(parent)
        self._cache = cache  # no I/O until used
        self._enabled = True
        self._clearing: list[threading.Thread] = []
        self._forget_jobs: queue.SimpleQueue[_Forget | None] = queue.SimpleQueue()
        self._forgetter: threading.Thread | None = None  # works through ``_forget_jobs``, made on first use

    def cache(self) -> ThumbnailDiskCache:
        """The disk cache of tiles (made on first use, in the user's cache folder; no I/O until used)."""
        if self._cache is None:
            from kdocs_viewer.core.thumb_cache import ThumbnailDiskCache
            from kdocs_viewer.gui.tile_store import default_folder

            self._cache = ThumbnailDiskCache(default_folder(), THUMBNAIL_DISK_BUDGET)
        return self._cache

    def store_for(self, base_url: str, file_token: str) -> TileStore | None:
        """One workbook's view of the disk cache, or None when it is switched off."""
        if not self._enabled:
            return None
        from kdocs_viewer.gui.tile_store import TileStore

        return TileStore(self.cache(), base_url, file_token)

    def enabled(self) -> bool:
        return self._enabled

    def set_enabled(self, on: bool) -> bool:
        """Off: tiles are neither read from nor written to disk (what is stored stays until cleared).
        True when that changed something."""
        if on == self._enabled:
            return False
        self._enabled = on
        return True

    def clear(self) -> None:
        """Empty the disk cache of tiles on a worker thread; ``cleared`` says when."""
        cache = self.cache()
        self._clearing = [thread for thread in self._clearing if thread.is_alive()]
        thread = threading.Thread(
            target=self._clear, args=(cache,), name="kdocs-clear-thumbnails", daemon=True
        )
        self._clearing.append(thread)
        thread.start()

    def forget_gone(self, store: TileStore | None, outcomes: Iterable[Outcome], dpr: float) -> None:
        """Remove from disk the tiles of the pictures these answers say are gone (no such picture, or
        workbook: ``FailureReason.gone``), at every tile size, on a worker thread. The next session must not
        paint what is not there any more, or what this account may no longer see; until the LRU reached
        them they would also stay among the private thumbnails on disk."""
        gone = [o.ref for o in outcomes if isinstance(o, PicFailure) and o.reason.gone]
        if store is None or not gone:
            return
        boxes = {tile_box(bucket, scale) for bucket in TILE_BUCKETS for scale in {1.0, 2.0, dpr}}
        self._forget_jobs.put((store, gone, boxes))
        if self._forgetter is None:  # one thread in order, however many answers (a workbook gone: 100)
            self._forgetter = threading.Thread(
                target=self._forget, args=(self._forget_jobs,), name="kdocs-forget-tiles", daemon=True
            )
            self._forgetter.start()

    @staticmethod
    def _forget(jobs: queue.SimpleQueue[_Forget | None]) -> None:
        """Worker thread, until a None; a file that cannot be removed stays (the LRU takes it in time)."""
        while (job := jobs.get()) is not None:
            store, refs, boxes = job
            for ref in refs:
                store.forget(ref, boxes)

    def join(self) -> None:
        """Wait for clearing and for the tiles of gone pictures to be deleted: "clear" means cleared, and a
        deleted picture's thumbnails do not stay on disk, even when the window closes at once (local file
        work, a few ms; bounded all the same, for a home folder on a network that stopped answering)."""
        for thread in self._clearing:
            thread.join()
        self._clearing.clear()
        forgetter, self._forgetter = self._forgetter, None
        if forgetter is not None:
            self._forget_jobs.put(None)
            forgetter.join(FORGET_WAIT_S)
            self._forget_jobs = queue.SimpleQueue()  # a late thread reads the old queue to its None

    def _clear(self, cache: ThumbnailDiskCache) -> None:
        """Worker thread."""
        try:
            removed = cache.clear()
        except OSError as exc:
            log.warning("could not clear the thumbnail cache: %s", exc.strerror)
            removed = 0
        with contextlib.suppress(RuntimeError):  # the switch was deleted meanwhile
            self.cleared.emit(removed)

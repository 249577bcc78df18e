"""``PictureBrowser``: the picture grid with its toolbar, lease keeper, thumbnail loader and preview.

The only widget the main window embeds. It owns one ``PictureSession`` at a time and every worker that
serves it; ``shutdown()`` (or the next ``start()``) cancels them all, and joins all but those waiting on
the network (``gui.retired``).

Flow: ``start()`` → the keeper resolves what is on screen first, then the rest in the background → leases
reach the model → the view's (debounced) visible range asks the loader for those thumbnails only → decoded
images come back in batches → the delegate paints. The visible, selected, previewed and pinned pictures are
the *needed* set the keeper keeps fresh; everything else is left to lapse (quota is precious).

Tiles also live on disk between sessions (``gui.browser_tiles``, on by default): the loader looks every
wanted tile up there first, link or not, so a reopened workbook paints before the API answers.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QItemSelection,
    QMimeData,
    QPoint,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kdocs_viewer.core.cache import ByteBudgetCache, DiskCache
from kdocs_viewer.core.contract import MAX_PICS_PER_CALL
from kdocs_viewer.core.deadlines import DeadlineIndex
from kdocs_viewer.core.models import Ident, Lease, Outcome, PicRef
from kdocs_viewer.core.redact import redact
from kdocs_viewer.gui.browser_handoff import BrowserHandoff
from kdocs_viewer.gui.browser_stats import BrowserStats, browser_stats, note_deadlines
from kdocs_viewer.gui.browser_tiles import TileCacheSwitch
from kdocs_viewer.gui.browser_toolbar import BrowserToolbar
from kdocs_viewer.gui.browser_warmup import BrowserWarmUp
from kdocs_viewer.gui.drag_export import DragExporter
from kdocs_viewer.gui.lease_keeper import LeaseKeeper
from kdocs_viewer.gui.originals import SessionFolder
from kdocs_viewer.gui.picture_filter import PictureFilterProxy
from kdocs_viewer.gui.picture_grid import PictureGrid, snap_tile_size
from kdocs_viewer.gui.picture_model import (
    ItemRole,
    PictureItem,
    PictureModel,
    SortKey,
    ThumbKey,
    ThumbnailResult,
    collector_paused,
    pixmap_bytes,
)
from kdocs_viewer.gui.tile_requests import TileRequests

if TYPE_CHECKING:  # the network stack (httpx, ~0.12 s of imports) waits until the window has painted
    from kdocs_viewer.core.api import KDocsClient
    from kdocs_viewer.core.session import PictureSession
    from kdocs_viewer.core.thumb_cache import ThumbnailDiskCache
    from kdocs_viewer.gui.thumbnails import ThumbnailLoader
    from kdocs_viewer.gui.tile_store import TileStore

log = logging.getLogger(__name__)

THUMBNAIL_BUDGET = 128 * 1024 * 1024  # decoded thumbnails kept in memory (bytes)
# Original bytes: a small hot set in memory (preview, copy, drag), the rest in a private (0700), bounded,
# session-only folder on disk, so a save of viewed pictures needs no new GET and RSS stays flat while
# scrolling thousands of phone photos. Session-only: someone's workbook pictures do not linger on disk.
ORIGINALS_MEMORY_BUDGET = 48 * 1024 * 1024
ORIGINALS_DISK_BUDGET = 2 * 1024 * 1024 * 1024

SELECTED_KEPT_FRESH = MAX_PICS_PER_CALL  # selected pictures whose links are refreshed ahead of time
STATUS_THROTTLE_MS = 250  # statusChanged at most 4 times a second


def settle_long_lived() -> None:
    """Move every object alive now out of the collector's future scans (``gc.freeze``).

    A workbook's rows, refs and the modules behind them live until the next Load, yet each full collection
    would walk all of them again: 35–90 ms pauses while scrolling 10,000 tiles. Frozen objects are still freed
    by reference counting as usual; only cyclic garbage that already exists at this moment stays until exit.
    """
    gc.freeze()


class PictureBrowser(QWidget):
    """Grid of the pictures of one workbook; see the module docstring."""

    tokenRejected = Signal()  # API answered 20007; the window gets a new token, then calls resume()
    statusChanged = Signal()  # counts / API calls changed; read stats() (throttled ≤ 4 Hz)
    errorOccurred = Signal(str)  # human, already-redacted message for the status bar
    selectionCountChanged = Signal(int)
    tileSizeChanged = Signal(int)
    noted = Signal(str)  # a passing remark for the status bar ("Picture copied")
    tileMenuRequested = Signal(QPoint)  # right-click on a tile (now current and selected), global position
    saveRequested = Signal(object)  # list[PicRef]: the preview's Save…
    thumbnailCacheCleared = Signal(int)  # the disk cache of tiles is empty now; tiles removed

    def __init__(
        self, parent: QWidget | None = None, *, thumbnail_cache: ThumbnailDiskCache | None = None
    ) -> None:
        """``thumbnail_cache``: the disk cache of tiles to use (default: one in the user's cache folder,
        made at the first ``start()``)."""
        super().__init__(parent)
        self._thumbs: ByteBudgetCache[ThumbKey, QPixmap] = ByteBudgetCache(THUMBNAIL_BUDGET, pixmap_bytes)
        self._model = PictureModel(self._thumbs, self)
        self._proxy = PictureFilterProxy(self)
        self._proxy.setSourceModel(self._model)
        self._grid = PictureGrid(self)
        self._grid.setObjectName("pictureGrid")
        self._grid.setModel(self._proxy)
        self._model.set_bucket(self._grid.tile_size())

        self._client: KDocsClient | None = None
        self._session: PictureSession | None = None
        self._originals: SessionFolder | None = None
        self._originals_cache: DiskCache | None = None  # in that folder
        self._released: list[SessionFolder] = []  # being deleted; shutdown() waits for them
        self._loader: ThumbnailLoader | None = None
        self._keeper: LeaseKeeper | None = None
        self._exporter: DragExporter | None = None
        self._pins: dict[str, frozenset[Ident]] = {}
        self._refresh_enabled = True
        self._token_paused = False
        self._closed = False
        self._deadlines = DeadlineIndex()  # sorted lease deadlines for stats(), kept up to date
        self._handoff = BrowserHandoff(self, self._grid, self._proxy)
        self._handoff.errorOccurred.connect(self.errorOccurred)
        self._handoff.noted.connect(self.noted)
        self._handoff.saveRequested.connect(self.saveRequested)
        self._handoff.previewChanged.connect(self._on_preview_changed)
        self._warm = BrowserWarmUp(self)
        self._requests = TileRequests(self._grid, self._proxy, self._model)
        self._tiles = TileCacheSwitch(thumbnail_cache, self)
        self._tiles.cleared.connect(self.thumbnailCacheCleared)
        QTimer.singleShot(0, self, self._warm_up)  # once the event loop runs; dropped if we are gone
        self._last_stats: BrowserStats | None = None

        self._toolbar = BrowserToolbar(self._grid.tile_size(), self)
        self._toolbar.filterTextChanged.connect(self._on_filter_text)
        self._toolbar.tagChosen.connect(self._on_tag_chosen)
        self._toolbar.sheetChosen.connect(self._on_sheet_chosen)
        self._toolbar.sortChosen.connect(self._on_sort_chosen)
        self._toolbar.tileSizeChosen.connect(self.set_tile_size)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self._toolbar)
        layout.addWidget(self._grid, 1)

        self._status_timer = QTimer(self)
        self._status_timer.setSingleShot(True)
        self._status_timer.setInterval(STATUS_THROTTLE_MS)
        self._status_timer.timeout.connect(self._emit_status)
        self._selection_timer = QTimer(self)
        self._selection_timer.setSingleShot(True)
        self._selection_timer.setInterval(30)
        self._selection_timer.timeout.connect(self._on_selection_settled)

        self._grid.visibleRangeChanged.connect(self._on_visible_range)
        self._grid.previewRequested.connect(self._handoff.open_preview)
        self._grid.copyRequested.connect(self._handoff.copy_current)
        self._grid.retryRequested.connect(self.retry_failed)
        self._grid.ticked.connect(self._on_tick)
        self._grid.set_drag_provider(self.drag_mime)
        self._grid.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self._grid.customContextMenuRequested.connect(self._on_context_menu)
        self._grid.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self._model.countsChanged.connect(self._schedule_status)

    # -- warm-up -------------------------------------------------------------------------------------------
    @Slot()
    def _warm_up(self) -> None:
        """Pay now, while the window sits idle after its first paint, what ``start()`` would pay at the first
        Load (``gui.browser_warmup``)."""
        if not self._closed:
            self._warm.start(self._grid.warm_up)

    # -- toolbar ---------------------------------------------------------------------------------------
    @Slot(str)
    def _on_filter_text(self, text: str) -> None:
        self._proxy.set_filter_text(text)
        self._after_reorder()

    @Slot(object)
    def _on_tag_chosen(self, tag: str | None) -> None:
        self._proxy.set_tag(tag)
        self._after_reorder()

    @Slot(object)
    def _on_sheet_chosen(self, sheet: str | None) -> None:
        self._proxy.set_sheet(sheet)
        self._after_reorder()

    @Slot(object)
    def _on_sort_chosen(self, key: SortKey) -> None:
        self._model.sort_by(key)
        self._after_reorder()

    def _after_reorder(self) -> None:
        self._update_shown()
        self._handoff.after_reorder(self._proxy_row_of)
        self._grid.schedule_range_update()

    # -- public API ------------------------------------------------------------------------------------
    def start(self, client: KDocsClient, file_token: str, refs: list[PicRef]) -> None:
        """Show ``refs`` of ``file_token``; shuts down any previous session first.

        Runs on the GUI thread with the whole workbook (10,000 rows), so the per-row work is kept to a
        minimum, no garbage collection runs half-way, and the new rows are frozen out of later collections
        (``settle_long_lived``).
        """
        self._teardown()
        with collector_paused():
            self._start(client, file_token, refs)
        settle_long_lived()

    def _start(self, client: KDocsClient, file_token: str, refs: list[PicRef]) -> None:
        from kdocs_viewer.core.session import PictureSession
        from kdocs_viewer.gui.thumbnails import ThumbnailLoader

        self._closed = False
        self._token_paused = False
        self._client = client
        self._originals = SessionFolder()
        self._originals_cache = DiskCache(self._originals.path, ORIGINALS_DISK_BUDGET)
        session = PictureSession(
            client,
            file_token,
            memory_budget=ORIGINALS_MEMORY_BUDGET,
            disk_cache=self._originals_cache,
        )
        self._session = session
        self._thumbs.clear()
        self._model.set_refs(refs)
        self._toolbar.refill_tags(refs)
        self._proxy.set_tag(None)
        self._toolbar.refill_sheets(refs)
        self._proxy.set_sheet(None)
        self._deadlines.clear()
        self._pins.clear()
        self.selectionCountChanged.emit(0)  # a model reset clears the selection without a signal

        loader = ThumbnailLoader(session, self._thumbs, self)
        loader.thumbnailsReady.connect(self._on_thumbnails)
        loader.failed.connect(self._on_thumbnail_failures)
        loader.leasesLearned.connect(self._on_leases_learned)
        loader.tokenRejected.connect(self._on_token_rejected)
        loader.set_tile_store(self._tile_store())
        self._loader = loader

        keeper = LeaseKeeper(session, self)
        keeper.leasesResolved.connect(self._on_leases_resolved)
        keeper.tokenRejected.connect(self._on_token_rejected)
        keeper.errorOccurred.connect(self._on_error)
        keeper.set_refresh_enabled(self._refresh_enabled)
        keeper.set_background_gate(self._first_screen_loaded)
        self._keeper = keeper

        self._exporter = DragExporter(session, self)
        self._handoff.attach(loader, self._exporter)

        first, rest = self._requests.initial_order()
        keeper.start(first, rest)
        self._request_visible()  # now, not after the range debounce: cached tiles need no lease
        self._grid.schedule_range_update()
        self._update_shown()
        self._schedule_status()

    def set_token(self, token: str) -> None:
        """A new token after ``tokenRejected``: the list and selection stay, loading resumes."""
        if self._client is None:
            return
        self._client.set_token(token)
        self.resume()

    @Slot()
    def resume(self) -> None:
        """The client can authenticate again after ``tokenRejected`` (whoever owns it gave it a new token or
        a new sign-in): the list and selection stay, loading resumes."""
        if self._client is None:
            return
        self._token_paused = False
        if self._keeper is not None:
            self._keeper.resume()
        if self._loader is not None:
            self._loader.resume()
        self._request_visible()
        self._schedule_status()

    def session(self) -> PictureSession | None:
        return self._session

    def selected_refs(self) -> list[PicRef]:
        """Selected pictures in workbook order."""
        model, proxy = self._model, self._proxy
        items = [
            model.item(proxy.mapToSource(ix).row()) for ix in self._grid.selectionModel().selectedIndexes()
        ]
        return [item.ref for item in sorted(items, key=lambda item: item.order)]

    def all_refs(self) -> list[PicRef]:
        return self._model.refs()

    def stats(self) -> BrowserStats:
        calls = self._client.calls_made if self._client is not None else 0
        return browser_stats(self._model, self._deadlines, calls)

    def pin(self, owner: str, idents: set[tuple[str, str]]) -> None:
        """Keep these leases fresh for ``owner`` (e.g. "save") until pinned again with an empty set."""
        frozen = frozenset(idents)
        if frozen:
            self._pins[owner] = frozen
        else:
            self._pins.pop(owner, None)
        if self._keeper is not None:
            self._keeper.set_needed(f"pin:{owner}", frozen)

    def set_refresh_enabled(self, on: bool) -> None:
        """Keep needed links fresh ahead of time (default). Off: links are renewed only when a tile or a
        save needs the picture (the session then asks for them in one batched call)."""
        self._refresh_enabled = on
        if self._keeper is not None:
            self._keeper.set_refresh_enabled(on)
        self._request_visible()

    # -- the disk cache of tiles (gui.browser_tiles) ---------------------------------------------------
    def thumbnail_cache(self) -> ThumbnailDiskCache:
        """The disk cache of tiles (made on first use, in the user's cache folder; no I/O until used)."""
        return self._tiles.cache()

    def _tile_store(self) -> TileStore | None:
        """This workbook's view of the disk cache, or None when it is switched off."""
        if self._client is None or self._session is None:
            return None
        return self._tiles.store_for(self._client.base_url, self._session.file_token)

    def thumbnail_cache_enabled(self) -> bool:
        return self._tiles.enabled()

    def set_thumbnail_cache_enabled(self, on: bool) -> None:
        """Off: tiles are neither read from nor written to disk (what is stored stays until cleared)."""
        if self._tiles.set_enabled(on) and self._loader is not None:
            self._loader.set_tile_store(self._tile_store())
            self._request_visible()

    def clear_thumbnail_cache(self) -> None:
        """Empty the disk cache of tiles on a worker thread; ``thumbnailCacheCleared`` says when. Tiles whose
        work began before this are not stored afterwards; tiles on screen stay (they are in memory)."""
        if not self._closed:
            self._tiles.clear()

    def retry_failed(self) -> None:
        """Try the failed pictures again (F5 in the grid): resolve those without a link, reload the rest."""
        idents = self._model.reset_failures()
        if not idents:
            return
        if self._keeper is not None and self._session is not None:
            session = self._session
            refs = [item.ref for i in idents if (item := self._model.item_for(i)) is not None]
            self._keeper.resolve_again([ref for ref in refs if session.usable_lease(ref) is None])
        self._request_visible()
        self._schedule_status()

    def refresh_enabled(self) -> bool:
        return self._refresh_enabled

    def tile_size(self) -> int:
        return self._grid.tile_size()

    def step_tile_size(self, steps: int) -> None:
        """Bigger (+1) or smaller (-1) tiles by whole buckets (Ctrl+= / Ctrl+-), as the slider moves."""
        self._toolbar.step_tile_size(steps)

    def focus_filter(self) -> None:
        """Ctrl+F: the filter box, its text selected so typing replaces it."""
        self._toolbar.focus_filter()

    def preview_current(self) -> None:
        """Open the preview on the current picture (the tile menu's Preview)."""
        self._handoff.open_preview(self._grid.currentIndex())

    def current_ref(self) -> PicRef | None:
        """The picture with the keyboard focus (the one right-clicked last), if any."""
        item = self._grid.currentIndex().data(ItemRole)
        return item.ref if isinstance(item, PictureItem) else None

    def set_tile_size(self, px: int) -> None:
        size = snap_tile_size(px)
        if size == self._grid.tile_size():
            return
        self._grid.set_tile_size(size)
        self._model.set_bucket(size)
        self._toolbar.set_tile_size(size)
        self.tileSizeChanged.emit(size)

    def shutdown(self) -> None:
        """Cancel every worker, close the session; never waits for the network. Idempotent (window close)."""
        if self._closed:
            return
        self._teardown()
        self._grid.stop_clock()
        self._status_timer.stop()
        self._selection_timer.stop()
        self._closed = True
        self._warm.close()
        self._tiles.join()
        for folder in self._released:  # the pictures must not outlive the app on disk
            folder.join()
        self._released.clear()

    def select_refs(self, idents: Iterable[Ident]) -> None:
        """Select these pictures (e.g. restoring a selection)."""
        selection = QItemSelection()
        for ident in idents:
            row = self._proxy_row_of(ident)
            if row >= 0:
                index = self._proxy.index(row, 0)
                selection.select(index, index)
        self._grid.selectionModel().select(
            selection, self._grid.selectionModel().SelectionFlag.ClearAndSelect
        )

    def select_all(self) -> None:
        """Select every picture shown (Edit → Select all) and give the grid the focus."""
        self._grid.selectAll()
        self._grid.setFocus()

    def copy_current_picture(self) -> None:
        """Copy the current picture, full size, to the clipboard (Edit → Copy image); it is fetched and
        decoded by a worker, so the clipboard fills a moment later."""
        self._handoff.copy_current()

    # -- internals -------------------------------------------------------------------------------------
    def _update_shown(self) -> None:
        total = self._model.rowCount()
        filtering = self._proxy.is_filtering() and total > 0
        self._toolbar.show_count(self._proxy.rowCount(), total, filtering)

    @Slot(QPoint)
    def _on_context_menu(self, pos: QPoint) -> None:
        """As file managers do: a right-click outside the selection selects that tile alone first."""
        index = self._grid.indexAt(pos)
        if not index.isValid():
            return
        selection = self._grid.selectionModel()
        if not selection.isSelected(index):
            selection.setCurrentIndex(index, selection.SelectionFlag.ClearAndSelect)
        else:
            selection.setCurrentIndex(index, selection.SelectionFlag.NoUpdate)
        self.tileMenuRequested.emit(self._grid.viewport().mapToGlobal(pos))

    def _teardown(self) -> None:
        self._handoff.detach()
        if self._loader is not None:
            self._loader.shutdown()
            self._loader.deleteLater()
            self._loader = None
        if self._keeper is not None:
            self._keeper.shutdown()
            self._keeper.deleteLater()
            self._keeper = None
        if self._exporter is not None:
            if (dragged := self._exporter.shutdown()) is not None:  # its folder: deleted like the originals'
                self._released.append(dragged)
            self._exporter.deleteLater()
            self._exporter = None
        if self._session is not None:
            self._session.close()
            self._session = None
        if self._originals_cache is not None:  # a GET still on the wire (not waited for) stores nothing
            self._originals_cache.close()
        if self._originals is not None:
            self._originals.release()  # renamed aside now, deleted on a worker thread
            self._released = [f for f in self._released if not f.join(0)]
            self._released.append(self._originals)
        self._originals = self._originals_cache = None
        self._client = None

    def _proxy_row_of(self, ident: Ident) -> int:
        row = self._model.row_of(ident)
        if row is None:
            return -1
        return self._proxy.mapFromSource(self._model.index(row)).row()

    def _first_screen_loaded(self) -> bool:
        """The keeper's gate for its background resolves: the loader has nothing left to fetch or decode."""
        return self._loader is None or self._loader.is_idle()

    @Slot()
    def _on_visible_range(self) -> None:
        self._request_visible()

    def _request_visible(self) -> None:
        if self._loader is None or self._keeper is None:
            return
        self._requests.request_visible(
            self._loader,
            self._keeper,
            self._session,
            refresh_enabled=self._refresh_enabled,
            paused=self._token_paused,
        )

    @Slot(object)
    def _on_leases_resolved(self, outcomes: list[Outcome]) -> None:
        self._model.apply_outcomes(outcomes)
        self._tiles.forget_gone(self._tile_store(), outcomes, self._grid.devicePixelRatioF())
        self._note_deadlines(outcome.ref.ident for outcome in outcomes)
        self._request_visible()
        self._schedule_status()

    @Slot(object)
    def _on_leases_learned(self, leases: list[Lease]) -> None:
        self._model.note_leases(leases)
        self._note_deadlines(lease.ref.ident for lease in leases)

    @Slot(object)
    def _on_thumbnails(self, results: list[ThumbnailResult]) -> None:
        self._model.apply_thumbnails(results)
        self._schedule_status()

    @Slot(object)
    def _on_thumbnail_failures(self, failures: list[tuple[Ident, str]]) -> None:
        self._model.apply_failures(failures)
        self._schedule_status()

    @Slot()
    def _on_token_rejected(self) -> None:
        if self._token_paused:
            return
        self._token_paused = True
        if self._loader is not None:
            self._loader.pause()
        if self._keeper is not None:
            self._keeper.token_rejected()
        self.tokenRejected.emit()

    @Slot(str)
    def _on_error(self, message: str) -> None:
        self.errorOccurred.emit(redact(message))

    # -- selection -------------------------------------------------------------------------------------
    @Slot(QItemSelection, QItemSelection)
    def _on_selection_changed(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        if not self._selection_timer.isActive():
            self._selection_timer.start()

    @Slot()
    def _on_selection_settled(self) -> None:
        indexes = self._grid.selectionModel().selectedIndexes()
        self.selectionCountChanged.emit(len(indexes))
        if self._keeper is not None:
            # Quota guard: a select-all of thousands must not cost a refresh call per hundred every few
            # minutes while the user is away. The first batch stays fresh; a save pins what it saves.
            first = sorted(ix.row() for ix in indexes)[:SELECTED_KEPT_FRESH]
            rows = (self._proxy.mapToSource(self._proxy.index(row, 0)).row() for row in first)
            self._keeper.set_needed("selected", {self._model.item(row).ident for row in rows})

    # -- preview, copy and drag (gui.browser_handoff) --------------------------------------------------
    @Slot(object)
    def _on_preview_changed(self, ref: PicRef | None) -> None:
        if self._keeper is not None:
            self._keeper.set_needed("preview", {ref.ident} if ref is not None else set())
        if ref is not None:
            row = self._proxy_row_of(ref.ident)
            if row >= 0:
                self._grid.setCurrentIndex(self._proxy.index(row, 0))

    def drag_mime(self) -> QMimeData | None:
        """The selected pictures as files for a drag (written off the GUI thread), or None with a message."""
        return self._handoff.drag_mime(self.selected_refs())

    def drag_exporter(self) -> DragExporter | None:
        return self._exporter

    # -- status ----------------------------------------------------------------------------------------
    def _note_deadlines(self, idents: Iterable[Ident]) -> None:
        note_deadlines(self._deadlines, self._model, idents)  # so stats() never re-sorts all rows

    @Slot()
    def _schedule_status(self) -> None:
        if not self._closed and not self._status_timer.isActive():
            self._status_timer.start()

    @Slot()
    def _emit_status(self) -> None:
        self._last_stats = self.stats()
        self.statusChanged.emit()

    @Slot()
    def _on_tick(self) -> None:
        if self._session is not None and self.stats() != self._last_stats:
            self._schedule_status()

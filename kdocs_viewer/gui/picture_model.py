"""The picture list as a Qt model: plain per-row state, O(1) lookups, batched change signals.

The model never holds pixmaps itself: thumbnails live in one byte-budgeted cache (``ByteBudgetCache``)
keyed by ``(pic_key, tag, size bucket)``, so memory stays bounded however long the workbook is. Rows only
remember which bucket they were last decoded at, so an evicted thumbnail shows the placeholder until it is
reloaded.

Remaining lease time is *not* model data that changes every second: the delegate computes it while painting
from ``Lease.obtained_at``/``ttl``, so the 1 Hz badge clock never emits ``dataChanged``.
"""

from __future__ import annotations

import contextlib
import gc
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QPixmap

from kdocs_viewer.core.cache import ByteBudgetCache
from kdocs_viewer.core.expiry import lease_state
from kdocs_viewer.core.models import Ident, Lease, LeaseState, Outcome, PicFailure, PicRef, ThumbKey
from kdocs_viewer.gui.i18n import tag_label

AnyIndex = QModelIndex | QPersistentModelIndex

_ROLE = int(Qt.ItemDataRole.UserRole)
ItemRole = _ROLE + 1  # the PictureItem itself (the delegate reads everything from it in one call)
PixmapRole = _ROLE + 2  # QPixmap | None from the thumbnail cache
RefRole = _ROLE + 3
LeaseRole = _ROLE + 4
StateRole = _ROLE + 5
ErrorRole = _ROLE + 6
TagRole = _ROLE + 7
PaintRole = _ROLE + 8  # (PictureItem, QPixmap | None, its bucket): all a tile paint needs, in one data() call
FilterRole = _ROLE + 9  # "tag␟sheet␟search text": what the filter proxy matches (see PictureFilterProxy)
FILTER_SEPARATOR = "\x1f"  # between the tag, the sheet and the search text in FilterRole

# A batch of lease refreshes up to this many rows repaints them at once; larger batches (background
# resolves, mostly off screen) wait for the grid's 1 Hz viewport repaint.
REFRESH_REPAINT_LIMIT = 32

_UNBOUNDED_SORT = 1e300  # after every real deadline
_UNKNOWN_SORT = math.inf  # no lease yet: last of all


def tile_box(bucket: int, dpr: float) -> int:
    """A tile of ``bucket`` logical px in device pixels: what it is decoded to, and what the disk cache of
    tiles keys it by."""
    return max(1, round(bucket * dpr))


def pixmap_bytes(pixmap: QPixmap) -> int:
    """What a thumbnail costs the cache's byte budget."""
    return max(1, pixmap.width() * pixmap.height() * max(1, pixmap.depth()) // 8)


class PicState(Enum):
    LOADING = "loading"  # no thumbnail yet (waiting for a lease or a decode)
    READY = "ready"  # decoded at least once; details (format, size, bytes) are known
    FAILED = "failed"  # no URL, download failed, or not a valid image; ``error`` says why


class PictureItem:
    """One row's state. Mutated only on the GUI thread, by the model's update methods.

    A plain slotted class rather than a dataclass: ``set_refs`` makes one per picture on the GUI thread, and
    this ``__init__`` costs half of the generated one (10,000 rows: ~6 ms instead of ~12 ms).
    """

    __slots__ = (
        "_search_text",
        "byte_count",
        "error",
        "gone",
        "ident",
        "image_format",
        "lease",
        "order",
        "pixel_size",
        "ref",
        "state",
        "thumb_bucket",
    )

    ref: PicRef
    order: int
    ident: Ident  # ref.ident, stored: it is looked up on every update and paint
    lease: Lease | None
    state: PicState
    error: str
    thumb_bucket: int  # bucket of the last decoded thumbnail (0 = never)
    gone: bool  # the API said "no such picture (or workbook)" and no URL came since: no tile from the cache
    byte_count: int | None
    image_format: str
    pixel_size: tuple[int, int] | None
    _search_text: str | None

    def __init__(self, ref: PicRef, order: int, ident: Ident | None = None) -> None:
        self.ref = ref
        self.order = order
        self.ident = ident if ident is not None else ref.ident
        self.lease = None
        self.state = PicState.LOADING
        self.error = ""
        self.thumb_bucket = 0
        self.gone = False
        self.byte_count = None
        self.image_format = ""
        self.pixel_size = None
        self._search_text = None

    def __repr__(self) -> str:
        return f"PictureItem({self.ref!r}, order={self.order}, state={self.state.name})"

    @property
    def search_text(self) -> str:
        """What the text filter searches (caption, cell, sheet, key; casefolded). Made on first use: most
        sessions never filter, and building it for every row would be a third of ``set_refs``."""
        text = self._search_text
        if text is None:
            ref = self.ref
            parts = (ref.caption, ref.cell, ref.sheet, ref.pic_key)
            text = self._search_text = " ".join(part for part in parts if part).casefold()
        return text

    def short_label(self) -> str:
        """Cell address and caption ("B7 产品图"), else whichever is known, else the key."""
        cell = self.ref.cell.split("!", 1)[-1] if self.ref.cell else ""
        caption = self.ref.caption or ""
        if cell and caption:
            return f"{cell}  {caption}"
        return caption or cell or self.ref.pic_key


@dataclass(frozen=True, slots=True)
class ThumbnailResult:
    """What a decoded thumbnail tells the model about its picture."""

    ident: Ident
    bucket: int
    byte_count: int
    image_format: str
    pixel_size: tuple[int, int]


def badge_kind(lease: Lease | None, now: float) -> tuple[LeaseState, bool] | None:
    """What of a tile's badge a new lease can change beyond its countdown: its state (``expiry.lease_state``:
    the colour, "expired", "∞") and the estimate mark; None without a lease.

    Rows whose kind is unchanged by a refresh need no ``dataChanged``: the countdown is painted from the
    lease on the next 1 Hz repaint anyway.
    """
    if lease is None:
        return None
    return (lease_state(lease, now), lease.estimated)


def contiguous_ranges(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted, merged inclusive ranges: [5, 1, 2, 3, 9] → [(1, 3), (5, 5), (9, 9)]."""
    ranges: list[tuple[int, int]] = []
    for row in sorted(set(rows)):
        if ranges and row == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], row)
        else:
            ranges.append((row, row))
    return ranges


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (restored after, unless it was off already).

    Building a whole workbook's rows makes tens of thousands of objects at once; each 700 of them could start
    a collection, and a full one (tens of ms with 10,000 rows) would land inside the one call that already
    holds the GUI thread longest.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class PictureModel(QAbstractListModel):
    """A flat list of pictures in workbook order.

    Updates come in batches (a resolve answer, a flush of decoded thumbnails) and produce one ``dataChanged``
    per contiguous run of rows, never one per row.
    """

    countsChanged = Signal()  # loaded/failed counters moved

    def __init__(self, thumbnails: ByteBudgetCache[ThumbKey, QPixmap], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[PictureItem] = []  # in the current sort order
        self._workbook: list[PictureItem] = []  # always in workbook order
        self._rows: dict[Ident, int] = {}
        self._sort = SortKey.WORKBOOK
        self._thumbs = thumbnails
        self._bucket = 0
        self._ready = 0
        self._failed = 0

    # -- population ------------------------------------------------------------------------------------
    def set_refs(self, refs: Sequence[PicRef]) -> None:
        """Replace the list; duplicates (same key and tag) keep their first occurrence.

        Runs on the GUI thread for the whole workbook (10,000 rows), so it does the least per row: one dict
        insertion to collapse duplicates, one small object; search text is made lazily.
        """
        self.beginResetModel()
        with collector_paused():  # tens of thousands of new objects: no collection half-way
            rows: dict[Ident, PicRef] = {}
            for ref in refs:
                ident = (ref.pic_key, ref.tag)
                if ident not in rows:
                    rows[ident] = ref
            items = [PictureItem(ref, order, ident) for order, (ident, ref) in enumerate(rows.items())]
            self._items = items
            self._workbook = list(items)
            self._rows = dict(zip(rows, range(len(items)), strict=True))
        self._ready = self._failed = 0
        if self._sort is not SortKey.WORKBOOK:
            self._items.sort(key=_SORT_KEYS[self._sort])
            self._rows = {item.ident: row for row, item in enumerate(self._items)}
        self.endResetModel()
        self.countsChanged.emit()

    # -- order -----------------------------------------------------------------------------------------
    def sort_key(self) -> SortKey:
        return self._sort

    def sort_by(self, key: SortKey) -> None:
        """Reorder rows now (stable; ties keep workbook order). Asking again re-sorts — time left moves on.

        One Python key per row and Python's C sort: ~10 ms for 10,000 rows, where a proxy calling ``data()``
        per comparison takes over a second. Selection and current index survive (persistent indexes move).
        """
        self._sort = key
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        moved = [self._items[ix.row()] for ix in persistent]
        self._items = sorted(self._workbook, key=_SORT_KEYS[key])
        self._rows = {item.ident: row for row, item in enumerate(self._items)}
        self.changePersistentIndexList(persistent, [self.index(self._rows[item.ident]) for item in moved])
        self.layoutChanged.emit()

    def set_bucket(self, bucket: int) -> None:
        """The thumbnail size the view currently wants; paints prefer it and fall back to the last one."""
        self._bucket = bucket

    # -- lookups (O(1)) --------------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._items)

    def item(self, row: int) -> PictureItem:
        return self._items[row]

    def items(self) -> Sequence[PictureItem]:
        return self._items

    def row_of(self, ident: Ident) -> int | None:
        return self._rows.get(ident)

    def item_for(self, ident: Ident) -> PictureItem | None:
        row = self._rows.get(ident)
        return None if row is None else self._items[row]

    def refs(self) -> list[PicRef]:
        """All pictures in workbook order (whatever the current sort)."""
        return [item.ref for item in self._workbook]

    @property
    def ready_count(self) -> int:
        return self._ready

    @property
    def failed_count(self) -> int:
        return self._failed

    def thumb_key(self, item: PictureItem, bucket: int) -> ThumbKey:
        return item.ref.thumb_key(bucket)

    def pixmap_for(self, item: PictureItem) -> QPixmap | None:
        """The current bucket's thumbnail, else the last decoded one (scaled when painted), else None."""
        return self.thumbnail_for(item)[0]

    def thumbnail_for(self, item: PictureItem) -> tuple[QPixmap | None, int]:
        """``pixmap_for`` and the bucket that pixmap was decoded for (0 with no pixmap).

        The painter needs the pixmap's own bucket: ``item.thumb_bucket`` is the last *decoded* one, which
        after a slider round trip is not the bucket of the cached pixmap shown now. A failed picture with no
        thumbnail of its own (one shown before it turned out to be gone) has none.
        """
        if item.state is PicState.FAILED and not item.thumb_bucket:
            return None, 0
        if self._bucket:
            pixmap = self._thumbs.get(self.thumb_key(item, self._bucket))
            if pixmap is not None:
                return pixmap, self._bucket
        if item.thumb_bucket and item.thumb_bucket != self._bucket:
            pixmap = self._thumbs.get(self.thumb_key(item, item.thumb_bucket))
            if pixmap is not None:
                return pixmap, item.thumb_bucket
        return None, 0

    def has_current_thumbnail(self, item: PictureItem) -> bool:
        return self.thumb_key(item, self._bucket) in self._thumbs

    # -- Qt data ---------------------------------------------------------------------------------------
    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        if role == PaintRole:
            return (item, *self.thumbnail_for(item))
        if role == ItemRole:
            return item
        if role == PixmapRole:
            return self.pixmap_for(item)
        if role == Qt.ItemDataRole.DisplayRole:
            return item.short_label()
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(item)
        if role == RefRole:
            return item.ref
        if role == LeaseRole:
            return item.lease
        if role == StateRole:
            return item.state
        if role == ErrorRole:
            return item.error
        if role == TagRole:
            return item.ref.tag
        if role == FilterRole:
            ref, sep = item.ref, FILTER_SEPARATOR
            return f"{filter_field(ref.tag)}{sep}{filter_field(ref.sheet or '')}{sep}{item.search_text}"
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled

    def _tooltip(self, item: PictureItem) -> str:
        ref = item.ref
        lines = [
            ref.label(),
            self.tr("Key: %1").replace("%1", ref.pic_key),
            self.tr("Tag: %1").replace("%1", tag_label(ref.tag)),
        ]
        if item.state is PicState.FAILED:
            lines.append(self.tr("Error: %1").replace("%1", item.error))
        elif item.state is PicState.LOADING:
            lines.append(self.tr("Loading…"))
        return "\n".join(lines)

    # -- batched updates -------------------------------------------------------------------------------
    def _emit_rows_changed(self, rows: Iterable[int]) -> None:
        for first, last in contiguous_ranges(rows):
            self.dataChanged.emit(self.index(first), self.index(last))

    def apply_outcomes(self, outcomes: Iterable[Outcome]) -> list[Ident]:
        """Record resolve answers. A failure only marks a row failed when it has no usable lease left.

        Returns the idents whose lease changed (new URL), so the caller can reload their thumbnails.
        Repaints only what looks different (see ``_emit_lease_changes``).
        """
        now = time.monotonic()
        changed: list[int] = []
        refreshed: list[int] = []
        renewed: list[Ident] = []
        for outcome in outcomes:
            row = self._rows.get(outcome.ref.ident)
            if row is None:
                continue
            item = self._items[row]
            if isinstance(outcome, PicFailure):
                # A refresh that failed leaves a shown tile alone. A tile from the disk cache that has not
                # had a URL yet does not stay when the first answer is "no such picture (or workbook)": it
                # would show what is not there any more, or what this account may no longer see.
                gone = outcome.reason.gone and item.lease is None
                if gone or (not item.thumb_bucket and (item.lease is None or item.lease.is_expired())):
                    if gone:  # its error shows instead (``thumbnail_for``); found again, it is fetched again
                        for bucket in {self._bucket, item.thumb_bucket} - {0}:
                            self._thumbs.discard(self.thumb_key(item, bucket))
                        item.thumb_bucket = 0
                        item.gone = True  # a disk lookup that answers after this is not shown either
                    self._set_state(item, PicState.FAILED, outcome.message)
                    changed.append(row)
                continue
            if item.lease is not None and outcome.obtained_at < item.lease.obtained_at:
                continue  # an older answer arriving late
            before = badge_kind(item.lease, now)
            item.lease = outcome
            item.gone = False
            renewed.append(item.ident)
            if item.state is PicState.FAILED and item.thumb_bucket == 0:
                self._set_state(item, PicState.LOADING, "")  # it has a URL now: try again
                changed.append(row)
            elif badge_kind(outcome, now) != before:
                changed.append(row)
            else:
                refreshed.append(row)
        self._emit_lease_changes(changed, refreshed)
        return renewed

    def note_leases(self, leases: Iterable[Lease]) -> None:
        """Leases learned elsewhere (a fetch that re-resolved after a 403): keep the newest."""
        now = time.monotonic()
        changed: list[int] = []
        refreshed: list[int] = []
        for lease in leases:
            row = self._rows.get(lease.ref.ident)
            if row is None:
                continue
            item = self._items[row]
            if item.lease is None or lease.obtained_at > item.lease.obtained_at:
                before = badge_kind(item.lease, now)
                item.lease = lease
                (changed if badge_kind(lease, now) != before else refreshed).append(row)
        self._emit_lease_changes(changed, refreshed)

    def _emit_lease_changes(self, changed: list[int], refreshed: list[int]) -> None:
        """Repaint rows whose tile looks different; a mere refresh only when few rows moved.

        A refreshed lease of the same kind only moves the countdown, which the delegate computes at paint
        time: the grid's 1 Hz viewport repaint shows the new time within a second. So a background resolve
        of hundreds of off-screen rows repaints nothing, while a handful of refreshed (likely visible) rows
        are repainted now — as one span when they sit close together.
        """
        if refreshed and len(refreshed) <= REFRESH_REPAINT_LIMIT:
            first, last = min(refreshed), max(refreshed)
            if last - first < 2 * REFRESH_REPAINT_LIMIT:
                changed = [*changed, *range(first, last + 1)]
            else:
                changed = [*changed, *refreshed]
        self._emit_rows_changed(changed)

    def apply_thumbnails(self, results: Iterable[ThumbnailResult]) -> None:
        changed: list[int] = []
        for result in results:
            row = self._rows.get(result.ident)
            if row is None:
                continue
            item = self._items[row]
            if item.gone:  # from the disk cache, read before the answer that it is gone came
                self._thumbs.discard(self.thumb_key(item, result.bucket))
                continue
            item.thumb_bucket = result.bucket
            item.byte_count = result.byte_count
            item.image_format = result.image_format
            item.pixel_size = result.pixel_size
            self._set_state(item, PicState.READY, "")
            changed.append(row)
        self._emit_rows_changed(changed)

    def apply_failures(self, failures: Iterable[tuple[Ident, str]]) -> None:
        changed: list[int] = []
        for ident, message in failures:
            row = self._rows.get(ident)
            if row is None:
                continue
            self._set_state(self._items[row], PicState.FAILED, message)
            changed.append(row)
        self._emit_rows_changed(changed)

    def reset_failures(self) -> list[Ident]:
        """Put failed rows back to loading (e.g. after a new token); returns their idents."""
        changed = [row for row, item in enumerate(self._items) if item.state is PicState.FAILED]
        for row in changed:
            self._set_state(self._items[row], PicState.LOADING, "")
        self._emit_rows_changed(changed)
        return [self._items[row].ident for row in changed]

    def rows_changed(self, idents: Iterable[Ident]) -> None:
        """Repaint these rows (e.g. a thumbnail arrived in the cache for an already-ready row)."""
        self._emit_rows_changed(row for ident in idents if (row := self._rows.get(ident)) is not None)

    def _set_state(self, item: PictureItem, state: PicState, error: str) -> None:
        before = item.state
        item.state = state
        item.error = error
        if before is state:
            return
        self._ready += (state is PicState.READY) - (before is PicState.READY)
        self._failed += (state is PicState.FAILED) - (before is PicState.FAILED)
        self.countsChanged.emit()


class SortKey(Enum):
    WORKBOOK = "workbook"
    CAPTION = "caption"
    TIME_LEFT = "time_left"


def _caption_key(item: PictureItem) -> tuple[int, str, int]:
    """By caption text; pictures without a caption after those with one (by cell or key)."""
    caption = item.ref.caption
    if caption:
        return (0, caption.casefold(), item.order)
    return (1, (item.ref.cell or item.ref.pic_key).casefold(), item.order)


def _time_left_key(item: PictureItem) -> tuple[float, int]:
    lease = item.lease
    if lease is None:
        return (_UNKNOWN_SORT, item.order)
    deadline = lease.expires_at
    return (_UNBOUNDED_SORT if deadline is None else deadline, item.order)


_SORT_KEYS: dict[SortKey, Callable[[PictureItem], Any]] = {
    SortKey.WORKBOOK: lambda item: item.order,
    SortKey.CAPTION: _caption_key,
    SortKey.TIME_LEFT: _time_left_key,
}


def filter_field(value: str) -> str:
    """A tag or sheet name as it stands in ``FilterRole``: a separator inside it would shift the fields."""
    return value.replace(FILTER_SEPARATOR, "\ufffd")

"""The grid's pure parts: badge text, model batching, filter, sort, visible-range maths (no network)."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex
from PySide6.QtGui import QPixmap
from pytestqt.qtbot import QtBot

from kdocs_viewer.core.cache import ByteBudgetCache
from kdocs_viewer.core.errors import FailureReason
from kdocs_viewer.core.models import Lease, PicFailure, PicRef
from kdocs_viewer.gui.picture_filter import PictureFilterProxy
from kdocs_viewer.gui.picture_grid import TILE_BUCKETS, PictureGrid, snap_tile_size
from kdocs_viewer.gui.picture_model import (
    PicState,
    PictureModel,
    RefRole,
    SortKey,
    ThumbKey,
    ThumbnailResult,
    contiguous_ranges,
    pixmap_bytes,
)
from kdocs_viewer.gui.tile_delegate import Urgency, badge_text, format_left, grid_cell_size

REF = PicRef("key", "local")


def lease(ttl: float | None, *, at: float = 100.0, estimated: bool = False) -> Lease:
    return Lease(REF, "https://example.invalid/p", at, ttl, estimated)


@pytest.mark.parametrize(
    ("ttl", "now", "text", "urgency"),
    [
        (600.0, 119.0, "9:41", Urgency.CALM),  # 581 s left
        (600.0, 100.0, "10:00", Urgency.CALM),
        (600.0, 580.5, "2:00", Urgency.CALM),  # 119.5 s left: past the keeper's refresh point, still calm
        (600.0, 620.0, "1:20", Urgency.CALM),
        (600.0, 670.0, "0:30", Urgency.CALM),  # expiry.EXPIRING_SOON left: not yet "expiring soon"
        (600.0, 670.5, "0:30", Urgency.URGENT),  # 29.5 s left: shown rounded up, coloured as < 30 s
        (600.0, 671.0, "0:29", Urgency.URGENT),
        (600.0, 699.2, "0:01", Urgency.URGENT),  # never "0:00" while it still works
        (600.0, 700.0, "expired", Urgency.EXPIRED),
        (600.0, 9000.0, "expired", Urgency.EXPIRED),
        (7200.0, 100.0, "2:00:00", Urgency.CALM),
        (None, 1e9, "∞", Urgency.UNBOUNDED),
    ],
)
def test_badge_text(ttl: float | None, now: float, text: str, urgency: Urgency) -> None:
    badge = badge_text(lease(ttl), now)
    assert (badge.text, badge.urgency) == (text, urgency)


def test_badge_marks_estimates_and_missing_leases() -> None:
    assert badge_text(lease(300.0, estimated=True), 100.0).text == "≈5:00"
    assert badge_text(None, 0.0).text == ""
    assert badge_text(None, 0.0).urgency is Urgency.NONE
    assert format_left(-3) == "0:00"


def make_model(count: int) -> tuple[PictureModel, list[PicRef]]:
    cache: ByteBudgetCache[ThumbKey, QPixmap] = ByteBudgetCache(1 << 20, pixmap_bytes)
    model = PictureModel(cache)
    tags = ("attachment", "local", "cloud")
    refs = [
        PicRef(f"k{i:03d}", tags[i % 3], sheet="S", cell=f"S!A{i + 3}", caption=f"caption {count - i:03d}")
        for i in range(count)
    ]
    model.set_refs([*refs, refs[0]])  # a duplicate collapses
    return model, refs


def test_contiguous_ranges() -> None:
    assert contiguous_ranges([5, 1, 2, 3, 9, 2]) == [(1, 3), (5, 5), (9, 9)]
    assert contiguous_ranges([]) == []


def test_updates_emit_one_signal_per_run_of_rows(qtbot: QtBot) -> None:
    model, refs = make_model(50)
    assert model.rowCount() == 50
    spans: list[tuple[int, int]] = []

    def record(top: QModelIndex | QPersistentModelIndex, bottom: QModelIndex | QPersistentModelIndex) -> None:
        spans.append((top.row(), bottom.row()))

    model.dataChanged.connect(record)
    outcomes = [lease_for(refs[i]) for i in (*range(10, 30), 40, 41)]
    model.apply_outcomes(outcomes)
    assert spans == [(10, 29), (40, 41)]
    spans.clear()
    model.apply_thumbnails([ThumbnailResult(refs[i].ident, 128, 10, "jpeg", (4, 3)) for i in range(5)])
    model.apply_failures([(refs[7].ident, "not a valid image: x")])
    assert spans == [(0, 4), (7, 7)]
    assert (model.ready_count, model.failed_count) == (5, 1)
    no_url = FailureReason.PICTURE_NOT_FOUND
    model.apply_outcomes([PicFailure(refs[7], "no URL", reason=no_url)])  # late, for an already failed row
    model.apply_outcomes([lease_for(refs[0])])
    model.apply_outcomes([PicFailure(refs[0], "no URL", reason=no_url)])  # a failed refresh: stays ready
    assert model.item(0).state is PicState.READY


@pytest.mark.parametrize(
    "reason", [FailureReason.PICTURE_NOT_FOUND, FailureReason.WORKBOOK_NOT_FOUND, FailureReason.NETWORK]
)
def test_a_tile_from_the_disk_cache_goes_when_the_first_answer_says_the_picture_is_gone(
    qtbot: QtBot, reason: FailureReason
) -> None:
    """Reopening paints cached tiles before the API answers. A picture deleted since, or a workbook this
    account can no longer open, must not stay on screen as if it were there; a network failure says nothing
    about that, and the tile stays."""
    cache: ByteBudgetCache[ThumbKey, QPixmap] = ByteBudgetCache(1 << 20, pixmap_bytes)
    model = PictureModel(cache)
    cached, fetched = PicRef("cached", "local"), PicRef("fetched", "local")
    model.set_refs([cached, fetched])
    model.set_bucket(128)
    model.apply_outcomes([lease_for(fetched)])
    for ref in (cached, fetched):  # both shown: one read from the disk cache, one fetched with its URL
        cache.put(ref.thumb_key(128), QPixmap(8, 6))
    model.apply_thumbnails([ThumbnailResult(ref.ident, 128, 10, "jpeg", (8, 6)) for ref in (cached, fetched)])

    model.apply_outcomes([PicFailure(ref, "the answer", reason=reason) for ref in (cached, fetched)])

    shown = model.item(0)
    if reason.gone:
        assert shown.state is PicState.FAILED and shown.error == "the answer"
        assert model.pixmap_for(shown) is None  # its error is painted, not the old picture
        assert cached.thumb_key(128) not in cache
    else:
        assert shown.state is PicState.READY and model.pixmap_for(shown) is not None
    assert model.item(1).state is PicState.READY  # it had a URL this session: a failed refresh
    assert model.pixmap_for(model.item(1)) is not None

    model.apply_outcomes([lease_for(cached)])  # there after all (F5): fetched again
    assert shown.state is (PicState.LOADING if reason.gone else PicState.READY)


@pytest.mark.parametrize("reason", [FailureReason.PICTURE_NOT_FOUND, FailureReason.NETWORK])
def test_a_disk_tile_read_before_the_gone_answer_but_delivered_after_it_is_not_shown(
    qtbot: QtBot, reason: FailureReason
) -> None:
    """The disk lookup and the first answer race on a reopen: "no such picture" first, the cached tile a
    moment later, must still leave the error on screen. After a network failure the tile is welcome."""
    cache: ByteBudgetCache[ThumbKey, QPixmap] = ByteBudgetCache(1 << 20, pixmap_bytes)
    model = PictureModel(cache)
    ref = PicRef("deleted", "local")
    model.set_refs([ref])
    model.set_bucket(128)
    model.apply_outcomes([PicFailure(ref, "the answer", reason=reason)])
    cache.put(ref.thumb_key(128), QPixmap(8, 6))  # the loader caches a tile before the model sees it
    model.apply_thumbnails([ThumbnailResult(ref.ident, 128, 10, "jpeg", (8, 6))])

    shown = model.item(0)
    if reason.gone:
        assert shown.state is PicState.FAILED and shown.error == "the answer"
        assert model.pixmap_for(shown) is None and ref.thumb_key(128) not in cache
        model.apply_outcomes([lease_for(ref)])  # there after all (F5): its tile is welcome again
        model.apply_thumbnails([ThumbnailResult(ref.ident, 128, 10, "jpeg", (8, 6))])
    assert shown.state is PicState.READY


def lease_for(ref: PicRef, deadline: float = 1000.0) -> Lease:
    return Lease(ref, "https://example.invalid/p", deadline - 300.0, 300.0)


def test_filter_by_text_and_tag(qtbot: QtBot) -> None:
    model, refs = make_model(30)
    proxy = PictureFilterProxy()
    proxy.setSourceModel(model)
    proxy.set_filter_text("CAPTION 02")  # case-insensitive, in caption
    assert proxy.rowCount() == 10
    proxy.set_tag("cloud")
    assert proxy.rowCount() == 3
    proxy.set_filter_text("s!a5")  # the cell address
    assert proxy.rowCount() == 1 and proxy.index(0, 0).data(RefRole) == refs[2]
    proxy.set_filter_text("")
    proxy.set_tag(None)
    assert proxy.rowCount() == 30


def test_sort_orders(qtbot: QtBot) -> None:
    model, refs = make_model(12)
    model.apply_outcomes(
        [lease_for(ref, deadline=2000.0 - i) for i, ref in enumerate(refs) if ref.tag != "cloud"]
    )
    model.sort_by(SortKey.CAPTION)
    assert [model.item(r).ref for r in range(12)] == refs[::-1]  # captions count down
    model.sort_by(SortKey.TIME_LEFT)
    order = [model.item(r).ref for r in range(12)]
    assert order[:8] == [ref for ref in refs if ref.tag != "cloud"][::-1]  # earliest deadline first
    assert all(ref.tag == "cloud" for ref in order[8:])  # no lease: last
    assert model.refs() == refs
    model.sort_by(SortKey.WORKBOOK)
    assert [model.item(r).ref for r in range(12)] == refs
    assert model.row_of(refs[5].ident) == 5


def test_tile_sizes_snap_to_buckets() -> None:
    assert snap_tile_size(100) == 96
    assert snap_tile_size(130) == 128
    assert snap_tile_size(1000) == 256
    assert snap_tile_size(0) == TILE_BUCKETS[0]


def shown_grid(qtbot: QtBot, model: QAbstractItemModel, width: int, height: int) -> PictureGrid:
    grid = PictureGrid()
    qtbot.addWidget(grid)
    grid.setModel(model)
    grid.resize(width, height)
    grid.show()
    qtbot.waitExposed(grid)
    return grid


def test_visible_range_matches_what_is_painted(qtbot: QtBot) -> None:
    model, _ = make_model(900)
    proxy = PictureFilterProxy()
    proxy.setSourceModel(model)
    grid = shown_grid(qtbot, proxy, 600, 400)
    grid.verticalScrollBar().setValue(grid.verticalScrollBar().maximum() // 2)
    visible, wider = grid.visible_rows()
    viewport = grid.viewport().rect()
    on_screen = [r for r in range(900) if grid.visualRect(proxy.index(r, 0)).intersects(viewport)]
    assert on_screen and on_screen[0] >= visible.start and on_screen[-1] < visible.stop
    assert len(visible) <= len(on_screen) + grid.columns()  # no more than one spare line
    cols = grid.columns()
    assert wider.start == visible.start - cols and wider.stop == visible.stop + cols
    grid.stop_clock()


@pytest.mark.parametrize("width", [600, 1000, 1390, 150])
def test_columns_spread_over_the_whole_width(qtbot: QtBot, width: int) -> None:
    """No empty band at the right: the margins left of the first tile and right of the last are equal to a
    few pixels, and each tile keeps its size (the cells widen, not the tiles)."""
    model, _ = make_model(60)
    grid = shown_grid(qtbot, model, width, 400)

    def spread() -> None:
        tile = grid_cell_size(grid.tile_size(), grid.fontMetrics())
        cols = grid.columns()
        viewport = grid.viewport().width()
        first, last = grid.visualRect(model.index(0)), grid.visualRect(model.index(cols - 1))
        assert cols == max(1, viewport // tile.width())
        assert first.size() == last.size() == tile
        if viewport >= tile.width():
            assert abs(first.left() - (viewport - 1 - last.right())) <= cols + 1  # rounding: a pixel a column
        assert grid.visualRect(model.index(cols)).top() > first.top()  # the next tile starts a new line

    qtbot.waitUntil(spread, timeout=5000)
    grid.resize(width + 170, 400)  # wider by nearly a cell: no band, possibly one more column
    qtbot.waitUntil(spread, timeout=5000)
    grid.set_tile_size(96)  # smaller tiles: more columns, spread again
    qtbot.waitUntil(spread, timeout=5000)
    grid.stop_clock()


def test_rows_arriving_in_a_shown_grid_are_laid_out_in_the_columns_it_reports(qtbot: QtBot) -> None:
    """Qt lays out for the vertical scroll bar before showing it: cells fitted to the width without it made
    one column fewer until the bar appeared, and the first screen was measured on that layout."""
    model, _ = make_model(1)
    grid = shown_grid(qtbot, model, 1280, 700)
    assert not grid.verticalScrollBar().isVisible()
    model.set_refs([PicRef(f"n{i}", "local") for i in range(1000)])
    cols = grid.columns()  # at once: before the bar is shown
    line = [grid.visualRect(model.index(r)) for r in range(cols + 1)]
    assert len({rect.top() for rect in line[:cols]}) == 1 and line[cols].top() > line[0].top()
    qtbot.waitUntil(grid.verticalScrollBar().isVisible, timeout=5000)
    assert grid.columns() == cols
    grid.stop_clock()


def test_lease_refreshes_repaint_only_what_looks_different(qtbot: QtBot) -> None:
    model, refs = make_model(1000)
    rows: list[int] = []

    def record(top: QModelIndex | QPersistentModelIndex, bottom: QModelIndex | QPersistentModelIndex) -> None:
        rows.extend(range(top.row(), bottom.row() + 1))

    model.dataChanged.connect(record)
    now = time.monotonic()
    model.apply_outcomes([Lease(ref, "https://example.invalid/a", now, 600.0) for ref in refs])
    assert len(rows) == 1000  # every badge appears: each row looks different
    rows.clear()
    # A background refresh of every row: same kind of badge, only the countdown moves (1 Hz repaint shows it).
    model.apply_outcomes([Lease(ref, "https://example.invalid/b", now + 1, 600.0) for ref in refs])
    model.note_leases([Lease(ref, "https://example.invalid/c", now + 2, 600.0) for ref in refs])
    assert len(rows) < 100
    assert all(item.lease is not None and item.lease.url.endswith("/c") for item in model.items())
    rows.clear()
    # A few refreshed rows (the visible ones, typically) repaint at once.
    model.note_leases([Lease(refs[i], "https://example.invalid/d", now + 3, 600.0) for i in (4, 5, 7)])
    assert {4, 5, 7} <= set(rows) and len(rows) <= 10
    rows.clear()
    # A change of badge kind always repaints, however many rows: estimated, unbounded, expired → live.
    model.apply_outcomes([Lease(ref, "https://example.invalid/e", now + 4, 600.0, True) for ref in refs])
    assert len(rows) == 1000
    rows.clear()
    model.note_leases([Lease(refs[0], "https://example.invalid/f", now + 5, None)])
    assert rows == [0]
    rows.clear()
    model.note_leases([Lease(refs[1], "https://example.invalid/g", now - 9000, 10.0)])  # older: ignored
    assert rows == []


def test_a_refresh_that_ends_an_expiring_soon_badge_repaints_every_row(qtbot: QtBot) -> None:
    model, refs = make_model(1000)
    rows: list[int] = []

    def record(top: QModelIndex | QPersistentModelIndex, bottom: QModelIndex | QPersistentModelIndex) -> None:
        rows.extend(range(top.row(), bottom.row() + 1))

    now = time.monotonic()
    model.apply_outcomes([Lease(ref, "https://example.invalid/a", now - 590, 600.0) for ref in refs])
    assert badge_text(model.item(0).lease, now).urgency is Urgency.URGENT
    model.dataChanged.connect(record)
    model.apply_outcomes([Lease(ref, "https://example.invalid/b", now, 600.0) for ref in refs])
    assert len(rows) == 1000  # red → green on every tile now, not at the next 1 Hz repaint

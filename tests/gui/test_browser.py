"""PictureBrowser end to end against the stand-in: loading, painting, quota behaviour, tokens, shutdown."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, QPoint, Qt, QThreadPool
from PySide6.QtGui import QColor, QGuiApplication, QImage
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from kdocs_viewer.core.models import PicRef
from kdocs_viewer.gui.browser import PictureBrowser
from kdocs_viewer.gui.browser_stats import BrowserStats
from kdocs_viewer.gui.lease_keeper import LeaseKeeper
from kdocs_viewer.gui.originals import LOCK_NAME
from kdocs_viewer.gui.picture_model import PicState, PictureItem, RefRole, TagRole
from kdocs_viewer.gui.retired import retired_count
from kdocs_viewer.gui.thumbnails import FETCHERS, ThumbnailLoader
from kdocs_viewer.gui.tile_delegate import placeholder_color
from tests.gui.browser_helpers import (
    MakeBrowser,
    grid_of,
    keeper_of,
    live,
    loader_of,
    model_of,
    proxy_of,
    visible_items,
)

pytest_plugins = ["tests.gui.browser_support"]


def visible_ready(browser: PictureBrowser) -> bool:
    items = visible_items(browser)
    return bool(items) and all(item.state is not PicState.LOADING for item in items)


def wait_settled(qtbot: QtBot, browser: PictureBrowser, timeout: int = 5000) -> None:
    """Visible tiles decided, the keeper's queue empty, the loader idle."""

    def settled() -> bool:
        keeper, loader = keeper_of(browser), loader_of(browser)
        return (
            visible_ready(browser)
            and keeper is not None
            and keeper.is_idle()
            and loader is not None
            and loader.is_idle()
        )

    qtbot.waitUntil(settled, timeout=timeout)


def box_centre_pixels(image: QImage, browser: PictureBrowser, row: int) -> list[QColor]:
    """A 5×5 sample of the thumbnail box of one tile (in viewport coordinates, device pixels)."""
    grid = grid_of(browser)
    rect = grid.visualRect(proxy_of(browser).index(row, 0))
    side = browser.tile_size()
    dpr = image.devicePixelRatio()
    left, top = rect.center().x() - side // 2, rect.top() + 6
    out = []
    for i in range(5):
        for j in range(5):
            point = QPoint(left + side * (i + 1) // 6, top + side * (j + 1) // 6)
            out.append(image.pixelColor(int(point.x() * dpr), int(point.y() * dpr)))
    return out


def test_loads_and_paints_the_demo_workbook(qtbot: QtBot, make_browser: MakeBrowser) -> None:
    h = make_browser(pictures=40, demo=True, size=(420, 300))
    browser, server = h.browser, h.server
    wait_settled(qtbot, browser)
    stats = browser.stats()
    assert isinstance(stats, BrowserStats)
    assert stats.pictures == 40
    assert stats.loaded >= len(visible_items(browser)) > 0
    assert stats.failed == 0
    assert stats.api_calls == server.api_calls_today() == 1  # 40 pictures: one resolve call for all

    image = grid_of(browser).viewport().grab().toImage()
    placeholder = placeholder_color(grid_of(browser).palette())
    for row in range(min(3, grid_of(browser).columns())):  # the first line is fully on screen
        pixels = box_centre_pixels(image, browser, row)
        same = sum(1 for colour in pixels if colour.rgb() == placeholder.rgb())
        assert same < len(pixels) // 2, f"tile {row} still shows the placeholder"
    first: PictureItem = visible_items(browser)[0]
    assert first.image_format and first.pixel_size and first.byte_count
    assert first.byte_count == len(server.image_bytes(first.ref.pic_key))


def test_only_visible_rows_and_margin_are_fetched(qtbot: QtBot, make_browser: MakeBrowser) -> None:
    h = make_browser(pictures=120, size=(500, 360))
    browser, server = h.browser, h.server
    wait_settled(qtbot, browser)
    _, wider = grid_of(browser).visible_rows()
    refs = browser.all_refs()  # workbook order == view order here
    assert wider.stop < len(refs) // 2
    far = refs[wider.stop + grid_of(browser).columns() :]
    assert far, "the test needs rows beyond the prefetch margin"
    assert sum(server.image_gets(ref.pic_key) for ref in far) == 0
    assert all(server.image_gets(ref.pic_key) == 1 for ref in refs[wider.start : wider.stop])
    # 120 pictures resolved in 2 calls (the screen's batch first, then the rest); nothing else.
    assert server.api_calls_today() == 2


def test_scrolling_far_away_drops_queued_work(qtbot: QtBot, make_browser: MakeBrowser) -> None:
    h = make_browser(pictures=400, size=(1200, 900), start=False)
    browser, server = h.browser, h.server
    browser.set_tile_size(96)  # more tiles on screen than the loader fetches at once
    server.set_latency_ms(120)
    h.start()
    loader = loader_of(browser)
    assert loader is not None
    qtbot.waitUntil(lambda: loader.jobs_started > 0, timeout=5000)
    top = visible_items(browser)
    grid = grid_of(browser)
    grid.scrollToBottom()
    qtbot.waitUntil(
        lambda: visible_ready(browser) and visible_items(browser)[-1].ref == browser.all_refs()[-1],
        timeout=8000,
    )
    server.set_latency_ms(0)
    started_top = sum(server.image_gets(item.ref.pic_key) for item in top)
    assert len(top) > FETCHERS
    # Only jobs already running when the user scrolled went on; the rest of the first screen never started.
    assert started_top < len(top)
    assert loader.jobs_dropped > 0 or loader.jobs_started < len(top) + len(visible_items(browser)) * 2


def test_badge_changes_as_time_passes(qtbot: QtBot, make_browser: MakeBrowser) -> None:
    from kdocs_viewer.gui.tile_delegate import badge_text

    # time_scale 0.02: "local" URLs live 6 s, "attachment" 12 s.
    h = make_browser(pictures=12, time_scale=0.02)
    browser, _ = h.browser, h.server
    wait_settled(qtbot, browser)
    item = next(i for i in visible_items(browser) if i.ref.tag == "attachment")
    assert item.lease is not None
    before = badge_text(item.lease, time.monotonic()).text
    assert before.count(":") == 1
    qtbot.waitUntil(lambda: badge_text(item.lease, time.monotonic()).text != before, timeout=2500)

    # The painted badge follows the delegate's clock: a far-future clock paints "expired" (grey), not green.
    grid = grid_of(browser)
    rect = grid.visualRect(proxy_of(browser).index(model_of(browser).row_of(item.ident) or 0, 0))
    badge_area = rect.adjusted(rect.width() // 2, 0, 0, -rect.height() // 2)
    delegate = grid.delegate()
    now = time.monotonic()
    delegate.set_clock(lambda: now)
    fresh = grid.viewport().grab(badge_area).toImage()
    delegate.set_clock(lambda: now + 3600)
    expired = grid.viewport().grab(badge_area).toImage()
    delegate.set_clock(time.monotonic)
    assert fresh != expired


def test_expiring_needed_lease_is_refreshed_and_unneeded_is_not(
    qtbot: QtBot, make_browser: MakeBrowser
) -> None:
    # time_scale 0.01: local URLs live 3 s and are refreshed after 1.5 s when needed.
    h = make_browser(pictures=40, size=(480, 260), time_scale=0.01)
    browser = h.browser
    wait_settled(qtbot, browser)
    session = browser.session()
    assert session is not None
    visible = next(i.ref for i in visible_items(browser) if i.ref.tag == "local")
    far, pinned = [r for r in browser.all_refs()[-8:] if r.tag == "local"][:2]
    browser.pin("save", {pinned.ident})
    first_visible = session.leases.get(visible.ident)
    first_far = session.leases.get(far.ident)
    first_pinned = session.leases.get(pinned.ident)
    assert first_visible and first_far and first_pinned and first_visible.ttl == pytest.approx(3.0, abs=0.2)

    def renewed(ref: PicRef, old: Any) -> bool:
        lease = session.leases.get(ref.ident)
        return lease is not None and lease.obtained_at > old.obtained_at

    qtbot.waitUntil(lambda: renewed(visible, first_visible) and renewed(pinned, first_pinned), timeout=4000)
    new_visible = session.leases.get(visible.ident)
    assert new_visible is not None and first_visible.expires_at is not None
    assert new_visible.obtained_at < first_visible.expires_at  # refreshed before it lapsed
    assert session.leases.get(far.ident) == first_far  # not needed: left to lapse
    browser.pin("save", set())
    keeper = keeper_of(browser)
    assert keeper is not None and keeper.refresh_batches >= 1


def test_with_refresh_off_expired_links_are_renewed_on_demand_in_one_call(
    qtbot: QtBot, make_browser: MakeBrowser
) -> None:
    # time_scale 0.004: every expiring URL is dead after 2.4 s at most.
    h = make_browser(pictures=60, size=(480, 260), time_scale=0.004, start=False)
    browser, server = h.browser, h.server
    browser.set_refresh_enabled(False)
    h.start()
    wait_settled(qtbot, browser)
    keeper, session = keeper_of(browser), browser.session()
    assert keeper is not None and not keeper.refresh_timer_active()
    assert session is not None
    calls = server.api_calls_today()
    # Until every link that can lapse has lapsed. Refreshing ahead of time would have happened at the
    # refresh points (half their life, here), well before: planned on the GUI thread, hence counted by now.
    lapsing = [lease for lease in session.leases.snapshot().values() if lease.ttl is not None]
    assert lapsing
    qtbot.waitUntil(lambda: all(lease.is_expired() for lease in lapsing), timeout=5000)
    assert keeper.refresh_batches == 0
    assert server.api_calls_today() == calls  # nothing refreshed ahead of time
    grid_of(browser).scrollToBottom()
    wait_settled(qtbot, browser)
    assert all(item.state is PicState.READY for item in visible_items(browser))
    assert server.api_calls_today() == calls + 1  # the whole new screen renewed in one batched call


def wait_ticks(qtbot: QtBot, browser: PictureBrowser, count: int) -> None:
    """Until the grid's 1 Hz badge clock has ticked ``count`` times: the browser's periodic work has run."""
    for _ in range(count):
        with qtbot.waitSignal(grid_of(browser).ticked, timeout=3000):
            pass


def test_no_api_calls_while_idle(qtbot: QtBot, make_browser: MakeBrowser) -> None:
    h = make_browser(pictures=40)  # real lifetimes: 5 and 10 minutes
    browser, server = h.browser, h.server
    wait_settled(qtbot, browser)
    calls = server.api_calls_today()
    wait_ticks(qtbot, browser, 2)  # a whole period of the clock that drives badges and the status line
    assert server.api_calls_today() == calls
    keeper = keeper_of(browser)
    assert keeper is not None and keeper.refresh_batches == 0

    cloud = [ref for ref in server.pictures() if ref.tag == "cloud"]
    h.start(cloud)
    wait_settled(qtbot, browser)
    keeper = keeper_of(browser)
    assert keeper is not None and not keeper.refresh_timer_active()  # nothing can expire: no timer at all
    calls = server.api_calls_today()
    wait_ticks(qtbot, browser, 2)
    assert server.api_calls_today() == calls


def test_revoked_url_is_resolved_again_once(qtbot: QtBot, make_browser: MakeBrowser) -> None:
    h = make_browser(pictures=60, size=(480, 260))
    browser, server = h.browser, h.server
    wait_settled(qtbot, browser)
    target = browser.all_refs()[-1]
    assert server.image_gets(target.pic_key) == 0
    server.revoke_url(target.pic_key)
    calls = server.api_calls_today()
    grid_of(browser).scrollToBottom()
    model = model_of(browser)
    qtbot.waitUntil(lambda: model.item_for(target.ident).state is not PicState.LOADING, timeout=5000)  # type: ignore[union-attr]
    assert model.item_for(target.ident).state is PicState.READY  # type: ignore[union-attr]
    assert server.image_gets(target.pic_key) == 2  # refused once, then fetched with the fresh URL
    assert server.api_calls_today() == calls + 1


def test_token_rejected_then_resumed_keeps_list_and_selection(
    qtbot: QtBot, make_browser: MakeBrowser
) -> None:
    h = make_browser(pictures=40, start=False)
    browser, server = h.browser, h.server
    server.set_token("other")  # the client still sends "demo-token"
    rejected: list[int] = []
    browser.tokenRejected.connect(lambda: rejected.append(1))
    h.start()
    qtbot.waitUntil(lambda: len(rejected) == 1, timeout=5000)
    assert browser.stats().pictures == 40
    chosen = [ref.ident for ref in browser.all_refs()[:3]]
    with qtbot.waitSignal(browser.selectionCountChanged, timeout=2000):
        browser.select_refs(chosen)  # settled: the keeper was told what is selected, while paused
    keeper = keeper_of(browser)
    assert keeper is not None and keeper.needed_by("selected") == set(chosen)
    assert len(rejected) == 1  # once, not once per call or per tile
    assert browser.stats().loaded == 0

    browser.set_token("other")
    wait_settled(qtbot, browser)
    assert browser.stats().loaded >= len(visible_items(browser))
    assert [ref.ident for ref in browser.selected_refs()] == chosen
    assert browser.stats().pictures == 40
    # Still once; and nothing was sent with the refused token after the refusal: a call made while paused
    # would be in the server's log as a second refusal, before the calls made with the new token.
    assert len(rejected) == 1
    assert [e.status for e in server.request_log() if e.method == "POST"].count(401) == 1


def test_token_rejected_during_refresh(qtbot: QtBot, make_browser: MakeBrowser) -> None:
    h = make_browser(pictures=12, time_scale=0.01)
    browser, server = h.browser, h.server
    wait_settled(qtbot, browser)
    server.set_token("other")
    with qtbot.waitSignal(browser.tokenRejected, timeout=4000):
        pass  # the next refresh of a visible local URL (after ~1.5 s) hits 20007
    keeper = keeper_of(browser)
    assert keeper is not None and keeper.is_paused()
    assert not keeper.refresh_timer_active()  # paused: no refresh planned either
    session = browser.session()
    assert session is not None
    ref = next(i.ref for i in visible_items(browser) if i.ref.tag == "local")
    old = session.leases.get(ref.ident)
    browser.set_token("other")
    qtbot.waitUntil(lambda: session.leases.get(ref.ident) != old, timeout=4000)
    assert not keeper.is_paused()
    # Paused: no hammering with a rejected token. Every call sent with it is in the server's log, refused,
    # before the ones the new token made.
    assert [e.status for e in server.request_log() if e.method == "POST"].count(401) == 1


def test_corrupt_and_empty_pictures_show_the_reason(qtbot: QtBot, make_browser: MakeBrowser) -> None:
    h = make_browser(pictures=14, start=False, demo=True)
    browser, server = h.browser, h.server
    corrupt = server.pictures_of_kind("corrupt")
    empty = server.pictures_of_kind("empty")
    assert corrupt and empty
    unknown = PicRef("ravXFmauNdDdDnapWimCvn", "attachment")  # no such picture: the API gives no URL
    refs = [*server.pictures()[:2], *corrupt, *empty, unknown]
    h.start(refs)
    qtbot.waitUntil(lambda: browser.stats().failed == 3 and browser.stats().loaded == 2, timeout=5000)
    model = model_of(browser)
    bad = model.item_for(corrupt[0].ident)
    nothing = model.item_for(empty[0].ident)
    assert bad is not None and nothing is not None
    assert bad.error.startswith("not a picture format this viewer can show")
    assert nothing.error == "empty file"
    tooltip = model.data(model.index(model.row_of(bad.ident) or 0), Qt.ItemDataRole.ToolTipRole)
    assert "not a picture format" in tooltip
    missing = model.item_for(unknown.ident)
    assert missing is not None and missing.error and missing.lease is None
    grid_of(browser).viewport().grab()  # the error state paints without warnings

    calls = server.api_calls_today()
    grid_of(browser).setFocus()
    qtbot.keyClick(grid_of(browser), Qt.Key.Key_F5)  # retry: the picture without a URL is asked for again
    assert browser.stats().failed == 0
    qtbot.waitUntil(lambda: browser.stats().failed == 3, timeout=5000)
    assert server.api_calls_today() == calls + 1
    assert bad.error.startswith("not a picture format this viewer can show")


def test_unreachable_server_fails_tiles_with_one_message(qtbot: QtBot, make_browser: MakeBrowser) -> None:
    """Pulling the network mid-session: every tile says why, and the user gets one summary, not silence."""
    h = make_browser(pictures=6, start=False)
    browser, server = h.browser, h.server
    refs = server.pictures()
    server.stop()
    with qtbot.waitSignal(browser.errorOccurred, timeout=20_000) as blocker:
        h.start(refs)
    message = blocker.args[0]
    assert "6 picture" in message and "F5" in message
    assert "demo-token" not in message and "http" not in message
    qtbot.waitUntil(lambda: browser.stats().failed == 6, timeout=5000)
    item = model_of(browser).item_for(refs[0].ident)
    assert item is not None and item.state is PicState.FAILED and item.error
    assert item.error in message
    grid_of(browser).viewport().grab()  # the reason paints inside the tile without Qt warnings


def test_viewed_originals_are_kept_on_private_disk_for_the_session(
    qtbot: QtBot, make_browser: MakeBrowser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saving what was viewed needs no new GET, without holding every original in RAM; nothing lingers."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    h = make_browser(pictures=12, size=(640, 420), start=False)
    browser, server = h.browser, h.server
    h.start()
    wait_settled(qtbot, browser)
    session = browser.session()
    assert session is not None
    folders = list((tmp_path / "cache" / "kdocs-viewer" / "originals").iterdir())
    assert len(folders) == 1 and (folders[0].stat().st_mode & 0o777) == 0o700
    viewed = [item.ref for item in visible_items(browser)]
    assert viewed
    written = [p for p in folders[0].iterdir() if p.name != LOCK_NAME]
    assert written, "viewed originals are written to the session folder"
    gets = sum(server.image_gets(ref.pic_key) for ref in viewed)
    for ref in viewed:
        assert session.fetch_bytes(ref) == server.image_bytes(ref.pic_key)
    assert sum(server.image_gets(ref.pic_key) for ref in viewed) == gets
    browser.shutdown()
    assert not folders[0].exists()  # renamed aside at once; the files go on a worker thread


def test_filter_tag_sort_and_tile_size(qtbot: QtBot, make_browser: MakeBrowser) -> None:
    from kdocs_viewer.gui.picture_model import SortKey

    h = make_browser(pictures=30)
    browser, server = h.browser, h.server
    wait_settled(qtbot, browser)
    proxy = proxy_of(browser)
    proxy.set_tag("cloud")
    assert proxy.rowCount() == sum(1 for ref in server.pictures() if ref.tag == "cloud")
    proxy.set_tag(None)
    caption = server.pictures()[7].caption
    assert caption
    line = browser.findChild(QLineEdit, "pictureFilter")
    assert isinstance(line, QLineEdit)
    line.setText(caption)
    assert 1 <= proxy.rowCount() < 30
    line.clear()
    assert proxy.rowCount() == 30
    chosen = [server.pictures()[i].ident for i in (2, 9)]
    browser.select_refs(chosen)
    grid_of(browser).selectionModel().setCurrentIndex(
        proxy_of(browser).index(9, 0), QItemSelectionModel.SelectionFlag.NoUpdate
    )
    model_of(browser).sort_by(SortKey.TIME_LEFT)
    tags = [proxy.index(r, 0).data(TagRole) for r in range(proxy.rowCount())]
    assert tags.index("local") < tags.index("attachment") < tags.index("cloud")  # 5 min, 10 min, unbounded
    assert tags == sorted(tags, key=["local", "attachment", "cloud"].index)
    assert [ref.ident for ref in browser.selected_refs()] == chosen  # the selection moved with its rows
    assert grid_of(browser).currentIndex().data(RefRole).ident == chosen[1]
    assert browser.all_refs() == server.pictures()  # workbook order whatever the view's order
    model_of(browser).sort_by(SortKey.CAPTION)
    captions = [proxy.index(r, 0).data(RefRole).caption.casefold() for r in range(proxy.rowCount())]
    assert captions == sorted(captions)
    model_of(browser).sort_by(SortKey.WORKBOOK)
    assert [proxy.index(r, 0).data(RefRole) for r in range(proxy.rowCount())] == server.pictures()

    sizes: list[int] = []
    browser.tileSizeChanged.connect(sizes.append)
    browser.set_tile_size(250)
    assert browser.tile_size() == 256 and sizes == [256]
    qtbot.waitUntil(lambda: visible_ready(browser) and loader_of(browser).is_idle(), timeout=5000)


def test_selection_count_and_copy(qtbot: QtBot, make_browser: MakeBrowser) -> None:
    h = make_browser(pictures=20)
    browser, server = h.browser, h.server
    wait_settled(qtbot, browser)
    grid = grid_of(browser)
    grid.setFocus()
    with qtbot.waitSignal(browser.selectionCountChanged, timeout=2000) as blocker:
        qtbot.keyClick(grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert blocker.args == [20]
    assert [r.ident for r in browser.selected_refs()] == [r.ident for r in server.pictures()]

    grid.setCurrentIndex(proxy_of(browser).index(1, 0))
    clipboard = QGuiApplication.clipboard()
    with qtbot.waitSignal(clipboard.dataChanged, timeout=4000):
        qtbot.keyClick(grid, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    item = model_of(browser).item(1)
    assert item.pixel_size is not None
    assert (clipboard.image().width(), clipboard.image().height()) == item.pixel_size


def test_shutdown_leaves_no_worker_behind(qtbot: QtBot, make_browser: MakeBrowser) -> None:
    h = make_browser(pictures=60, start=False)
    browser, server = h.browser, h.server
    baseline = set(threading.enumerate())
    server.set_latency_ms(50)
    h.start()
    qtbot.waitUntil(lambda: browser.stats().loaded > 0, timeout=5000)
    loader = loader_of(browser)
    assert loader is not None and loader.pool() is not None
    browser.shutdown()
    browser.shutdown()  # idempotent
    assert loader.pool() is None
    assert QThreadPool.globalInstance().activeThreadCount() == 0
    assert browser.session() is None and not live(browser, ThumbnailLoader) and not live(browser, LeaseKeeper)
    # A GET or API call still on the wire is not waited for; its thread ends when the server answers, and
    # the signals it reported through are deleted then. The stand-in's own threads are not ours.
    def ours() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t not in baseline and not t.name.startswith("standin")]

    qtbot.waitUntil(lambda: not ours() and retired_count() == 0, timeout=5000)


def test_shutdown_does_not_wait_for_the_network(qtbot: QtBot, make_browser: MakeBrowser) -> None:
    """Closing the window or switching workbooks while the picture host is slow must not freeze the window
    until it answers (it did: shutdown joined every GET and API call on the wire)."""
    h = make_browser(pictures=300)
    browser, server = h.browser, h.server
    wait_settled(qtbot, browser)
    keeper = keeper_of(browser)
    qtbot.waitUntil(lambda: keeper is not None and keeper.is_idle(), timeout=8000)  # every link resolved
    server.set_latency_ms(4000)
    grid_of(browser).scrollToBottom()  # tiles never fetched: their GETs go out and wait 4 s each
    loader = loader_of(browser)
    assert loader is not None
    qtbot.waitUntil(lambda: loader.fetching_count() > 0, timeout=5000)
    qtbot.wait(200)
    started = time.monotonic()
    browser.shutdown()
    assert time.monotonic() - started < 2.0  # joining the GETs took the server's 4 s
    qtbot.waitUntil(lambda: retired_count() == 0, timeout=10000)

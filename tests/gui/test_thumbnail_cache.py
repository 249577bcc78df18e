"""Thumbnails that outlive the session: a second session paints from the disk cache, against the stand-in.

Each test has its own empty user cache folder (``private_cache_folder`` in tests/conftest.py).
"""

from __future__ import annotations

import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QAction, QColor, QImage
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.thumb_cache import SUFFIX, ThumbnailDiskCache
from kdocs_viewer.gui import settings as S
from kdocs_viewer.gui.browser import PictureBrowser
from kdocs_viewer.gui.picture_model import PicState, PictureItem
from kdocs_viewer.gui.tile_store import TileStore
from kdocs_viewer.standin.server import StandinServer
from tests.conftest import CANARY_TOKEN
from tests.gui.browser_helpers import FILE_TOKEN, grid_of, keeper_of, loader_of, proxy_of, visible_items
from tests.gui.shell_helpers import DemoWindow

pytest_plugins = ["tests.gui.browser_support", "tests.gui.shell_support"]

OpenBrowser = Callable[..., PictureBrowser]


@pytest.fixture
def server(standin_factory: Callable[..., StandinServer], small_pictures: Path) -> StandinServer:
    return standin_factory(dataset=small_pictures, pictures=30)


@pytest.fixture
def open_browser(qtbot: QtBot, server: StandinServer) -> Iterator[OpenBrowser]:
    """``open_browser(cache=..., base_url=..., token=..., start=True, refs=None)`` → a shown browser on
    ``server``'s workbook (``refs``: these pictures of it): one *session*; the next call is the same user
    opening the workbook again."""
    made: list[tuple[PictureBrowser, KDocsClient]] = []

    def make(
        *,
        cache: ThumbnailDiskCache | None = None,
        base_url: str | None = None,
        token: str = "demo-token",
        disk: bool = True,
        start: bool = True,
        refs: list[PicRef] | None = None,
    ) -> PictureBrowser:
        browser = PictureBrowser(thumbnail_cache=cache)
        client = KDocsClient(token, base_url or server.base_url)
        qtbot.addWidget(browser)
        browser.resize(640, 420)
        browser.show()
        qtbot.waitExposed(browser)
        browser.set_thumbnail_cache_enabled(disk)
        made.append((browser, client))
        if start:
            browser.start(client, FILE_TOKEN, server.pictures() if refs is None else refs)
        return browser

    yield make
    for browser, client in made:
        browser.shutdown()
        client.close()


def visible(browser: PictureBrowser) -> list[PictureItem]:
    items = visible_items(browser)
    assert items
    return items


def wait_shown(qtbot: QtBot, browser: PictureBrowser, timeout: int = 10_000) -> None:
    """Every visible tile shows its picture, and the loader has nothing left (its writes included)."""

    def shown() -> bool:
        loader = loader_of(browser)
        items = visible_items(browser)
        return (
            bool(items)
            and all(item.state is PicState.READY for item in items)
            and loader is not None
            and loader.is_idle()
        )

    qtbot.waitUntil(shown, timeout=timeout)


def tile_colours(browser: PictureBrowser) -> list[QColor]:
    """The colour at the middle of each visible tile's thumbnail (the test pictures are plain colours)."""
    grid = grid_of(browser)
    image = grid.viewport().grab().toImage()
    dpr = image.devicePixelRatio()
    out = []
    for row in grid.visible_rows()[0]:
        rect = grid.visualRect(proxy_of(browser).index(row, 0))
        x, y = rect.center().x(), rect.top() + 6 + browser.tile_size() // 2
        if grid.viewport().rect().contains(x, y):
            out.append(image.pixelColor(int(x * dpr), int(y * dpr)))
    return out


def same_colours(a: list[QColor], b: list[QColor]) -> bool:
    """Equal within what re-encoding a plain colour at JPEG quality 90 may move."""
    return len(a) == len(b) > 0 and all(
        abs(x.red() - y.red()) <= 12 and abs(x.green() - y.green()) <= 12 and abs(x.blue() - y.blue()) <= 12
        for x, y in zip(a, b, strict=True)
    )


def image_gets(server: StandinServer, since: int) -> list[str]:
    """Picture keys of the image GETs the stand-in received after the first ``since`` requests."""
    return [e.path.rsplit("/", 1)[-1] for e in server.request_log()[since:] if e.path.startswith("/img/")]


def tile_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob(f"*{SUFFIX}")) if folder.exists() else []


def entry_path(browser: PictureBrowser, item: PictureItem) -> Path:
    loader = loader_of(browser)
    assert loader is not None
    store = loader.tile_store()
    assert isinstance(store, TileStore)
    box = round(browser.tile_size() * grid_of(browser).devicePixelRatioF())
    return store.cache.directory / f"{store.key(item.ref, box)}{SUFFIX}"


# ---------------------------------------------------------------------------------------------------------


def test_reopen_paints_cached_tiles_before_any_api_answer_and_gets_no_image(
    qtbot: QtBot, server: StandinServer, open_browser: OpenBrowser, private_cache_folder: Path
) -> None:
    first = open_browser()
    wait_shown(qtbot, first)
    colours = tile_colours(first)
    stored = tile_files(private_cache_folder)
    assert len(stored) >= len(visible(first))
    folder = stored[0].parent
    assert folder == private_cache_folder / "kdocs-viewer" / "thumbnails"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in stored)
    first.shutdown()

    server.set_latency_ms(2000)  # every API call (and GET) of the second session takes 2 s to answer
    since = len(server.request_log())
    second = open_browser()
    qtbot.waitUntil(lambda: all(item.state is PicState.READY for item in visible(second)), timeout=5000)
    # Painted before the API answered anything: no visible tile has its link yet.
    assert all(item.lease is None for item in visible(second))
    assert same_colours(tile_colours(second), colours)
    server.set_latency_ms(0)

    # The links still resolve in the background — the countdown badges are the product.
    qtbot.waitUntil(lambda: all(item.lease is not None for item in visible(second)), timeout=10_000)
    wait_shown(qtbot, second)
    keeper = keeper_of(second)
    qtbot.waitUntil(lambda: keeper is not None and keeper.is_idle(), timeout=10_000)
    assert image_gets(server, since) == []
    loader = loader_of(second)
    assert loader is not None and loader.jobs_started == 0 and loader.disk_hits >= len(visible(second))


def test_a_truncated_or_corrupt_cached_tile_is_refetched_and_replaced(
    qtbot: QtBot, server: StandinServer, open_browser: OpenBrowser
) -> None:
    first = open_browser()
    wait_shown(qtbot, first)
    colours = tile_colours(first)
    truncated, corrupt = visible(first)[:2]
    truncated_path, corrupt_path = entry_path(first, truncated), entry_path(first, corrupt)
    first.shutdown()
    good = truncated_path.read_bytes()
    truncated_path.write_bytes(good[: len(good) // 2])
    data = bytearray(corrupt_path.read_bytes())
    data[len(data) * 3 // 4] ^= 0x5A  # inside the picture data: a decoder would not notice
    corrupt_path.write_bytes(bytes(data))
    damaged = corrupt_path.read_bytes()

    since = len(server.request_log())
    second = open_browser()
    wait_shown(qtbot, second)
    assert sorted(image_gets(server, since)) == sorted([truncated.ref.pic_key, corrupt.ref.pic_key])
    assert same_colours(tile_colours(second), colours)  # never shown broken
    assert all(item.state is PicState.READY for item in visible(second))
    # Replaced: both entries are whole again and read back as tiles.
    loader = loader_of(second)
    assert loader is not None
    store = loader.tile_store()
    assert store is not None
    box = round(second.tile_size() * grid_of(second).devicePixelRatioF())
    assert truncated_path.stat().st_size > len(good) // 2 and corrupt_path.read_bytes() != damaged
    assert store.load(truncated.ref, box) is not None and store.load(corrupt.ref, box) is not None


def test_the_tiles_of_a_deleted_picture_leave_the_disk_when_the_api_says_it_is_gone(
    qtbot: QtBot, server: StandinServer, open_browser: OpenBrowser, private_cache_folder: Path
) -> None:
    refs = server.pictures()  # a list the user keeps (pasted, or a file): it still names the picture
    first = open_browser()
    wait_shown(qtbot, first)
    deleted, kept = visible(first)[:2]
    deleted_path, kept_path = entry_path(first, deleted), entry_path(first, kept)
    stored = len(tile_files(private_cache_folder))
    assert deleted_path.exists() and kept_path.exists()
    first.shutdown()
    server.delete_picture(deleted.ref.pic_key)

    second = open_browser(refs=refs)
    qtbot.waitUntil(lambda: not deleted_path.exists(), timeout=10_000)
    shown = next(item for item in visible(second) if item.ident == deleted.ident)
    qtbot.waitUntil(lambda: shown.state is PicState.FAILED, timeout=5000)  # its error, not the tile
    assert kept_path.exists() and len(tile_files(private_cache_folder)) == stored - 1


def test_the_cache_stays_under_its_bound(
    qtbot: QtBot, open_browser: OpenBrowser, tmp_path: Path
) -> None:
    budget = 6000  # a few tiles of the test pictures
    cache = ThumbnailDiskCache(tmp_path / "thumbs", budget_bytes=budget)
    browser = open_browser(cache=cache)
    wait_shown(qtbot, browser)
    loader = loader_of(browser)
    assert loader is not None
    files = tile_files(tmp_path / "thumbs")
    assert files, "the latest tiles are kept"
    smallest = min(path.stat().st_size for path in files)
    assert loader.decodes_started * smallest > budget  # more was written than fits …
    assert sum(path.stat().st_size for path in files) <= budget  # … and the folder stayed within it


def test_switched_off_it_neither_reads_nor_writes(
    qtbot: QtBot, server: StandinServer, open_browser: OpenBrowser, private_cache_folder: Path
) -> None:
    first = open_browser()
    wait_shown(qtbot, first)
    first.shutdown()
    before = {path: (path.stat().st_mtime_ns, path.read_bytes()) for path in tile_files(private_cache_folder)}
    assert before

    since = len(server.request_log())
    second = open_browser(disk=False)
    wait_shown(qtbot, second)
    fetched = set(image_gets(server, since))
    assert {item.ref.pic_key for item in visible(second)} <= fetched  # not read: every tile downloaded
    after = {path: (path.stat().st_mtime_ns, path.read_bytes()) for path in tile_files(private_cache_folder)}
    assert after == before  # not written either
    loader = loader_of(second)
    assert loader is not None and loader.lookups_started == 0 and loader.tile_store() is None

    second.set_thumbnail_cache_enabled(True)  # back on while the window runs: reads again, no new GET
    since = len(server.request_log())
    second.set_tile_size(96)
    wait_shown(qtbot, second)
    assert loader.tile_store() is not None and loader.lookups_started > 0


def test_a_different_base_url_or_token_holder_keys_differently(
    qtbot: QtBot, server: StandinServer, open_browser: OpenBrowser, private_cache_folder: Path
) -> None:
    """The same stand-in under another name (localhost instead of 127.0.0.1) is another API base URL: its
    tiles miss, and are fetched."""
    first = open_browser()
    wait_shown(qtbot, first)
    first.shutdown()
    since = len(server.request_log())
    other = open_browser(base_url=server.base_url.replace("127.0.0.1", "localhost"))
    wait_shown(qtbot, other)
    assert {item.ref.pic_key for item in visible(other)} <= set(image_gets(server, since))


def test_no_token_or_key_reaches_the_cache_folder(
    qtbot: QtBot, canary_standin: StandinServer, private_cache_folder: Path, small_pictures: Path
) -> None:
    browser = PictureBrowser()
    client = KDocsClient(CANARY_TOKEN, canary_standin.base_url)
    qtbot.addWidget(browser)
    browser.resize(640, 420)
    browser.show()
    try:
        browser.start(client, FILE_TOKEN, canary_standin.pictures())
        wait_shown(qtbot, browser)
        keys = {item.ref.pic_key for item in visible_items(browser)}
    finally:
        browser.shutdown()
        client.close()
    files = [path for path in private_cache_folder.rglob("*") if path.is_file()]
    assert files
    for path in files:
        blob = str(path.relative_to(private_cache_folder)).encode() + path.read_bytes()
        for secret in (CANARY_TOKEN, FILE_TOKEN, *keys):
            assert secret.encode() not in blob, (secret, path.name)


def test_clear_empties_the_cache_even_of_writes_in_flight(
    qtbot: QtBot, server: StandinServer, open_browser: OpenBrowser, private_cache_folder: Path
) -> None:
    server.set_latency_ms(300)
    browser = open_browser(refs=server.pictures()[:2])
    loader = loader_of(browser)
    assert loader is not None
    qtbot.waitUntil(lambda: loader.fetching_count() == 2, timeout=5000)  # both GETs on their way
    with qtbot.waitSignal(browser.thumbnailCacheCleared, timeout=5000):
        browser.clear_thumbnail_cache()
    wait_shown(qtbot, browser)
    assert loader.decodes_started == 2
    assert tile_files(private_cache_folder) == []


def test_a_tile_is_shown_before_it_is_written_and_the_loader_waits_for_the_write(
    qtbot: QtBot,
    server: StandinServer,
    open_browser: OpenBrowser,
    private_cache_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Writing a tile to disk (encode, file) comes after the screen: it must not delay it, and an idle
    loader has no write left in flight."""
    release = threading.Event()
    held: list[PicRef] = []
    save = TileStore.save

    def held_save(self: TileStore, ref: PicRef, *args: Any, **kwargs: Any) -> bool:
        held.append(ref)
        assert release.wait(10)
        return save(self, ref, *args, **kwargs)

    monkeypatch.setattr(TileStore, "save", held_save)
    browser = open_browser(refs=server.pictures()[:2])
    try:
        loader = loader_of(browser)
        assert loader is not None

        def shown() -> bool:
            return all(item.state is PicState.READY for item in visible(browser))

        qtbot.waitUntil(shown, timeout=10_000)
        qtbot.waitUntil(lambda: len(held) == 2, timeout=5000)
        assert not loader.is_idle() and tile_files(private_cache_folder) == []
        release.set()
        wait_shown(qtbot, browser)
        assert len(tile_files(private_cache_folder)) == 2
    finally:
        release.set()  # before the fixture shuts the browser down (its decoders wait for the write)


def view_action(window: Any, name: str) -> QAction:
    menu = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == window.tr("&View"))
    return next(a for a in menu.actions() if a.objectName() == name)


def test_view_menu_clears_the_cache_while_the_window_runs(
    qtbot: QtBot, demo_window: Callable[..., DemoWindow], private_cache_folder: Path
) -> None:
    demo = demo_window(pictures=6)
    window = demo.window
    loader = loader_of(window.browser)
    assert loader is not None
    qtbot.waitUntil(loader.is_idle, timeout=10_000)
    assert tile_files(private_cache_folder)
    clear = view_action(window, "clearThumbnailCache")
    with qtbot.waitSignal(window.browser.thumbnailCacheCleared, timeout=5000) as cleared:
        clear.trigger()
    assert tile_files(private_cache_folder) == []
    assert cleared.args == [6]
    assert "6" in window.statusBar().currentMessage()
    assert window.isVisible() and window.browser.stats().loaded == 6  # the tiles on screen stay
    assert clear.isEnabled()


def test_view_menu_switch_is_remembered(
    qtbot: QtBot, demo_window: Callable[..., DemoWindow]
) -> None:
    window = demo_window(pictures=2).window
    use = view_action(window, "useThumbnailCache")
    assert use.isCheckable() and use.isChecked() and window.browser.thumbnail_cache_enabled()
    use.trigger()
    assert not window.browser.thumbnail_cache_enabled()
    assert window.settings.get(S.THUMBNAIL_CACHE) is False


def test_tiles_keep_alpha_where_the_picture_has_it(qapp: Any) -> None:
    from PySide6.QtCore import Qt

    from kdocs_viewer.gui.tile_store import decode_tile, encode_tile

    clear = QImage(40, 30, QImage.Format.Format_ARGB32)
    clear.fill(Qt.GlobalColor.transparent)
    clear.setPixelColor(5, 5, QColor(200, 30, 30, 255))
    encoding, payload = encode_tile(clear) or ("", b"")
    back = decode_tile(encoding, payload)
    assert encoding == "png" and back is not None
    assert back.pixelColor(20, 20).alpha() == 0 and back.pixelColor(5, 5).alpha() == 255

    opaque = QImage(40, 30, QImage.Format.Format_RGB32)
    opaque.fill(QColor("#3a7"))
    encoding, payload = encode_tile(opaque) or ("", b"")
    back = decode_tile(encoding, payload)
    assert encoding == "jpeg" and payload.startswith(b"\xff\xd8") and back is not None
    assert (back.width(), back.height()) == (40, 30)
    assert decode_tile("webp", payload) is None  # an encoding this store never writes is not decoded

"""Dragging tiles out: files in a private folder, written off the GUI thread; never signed URLs."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from PIL import Image
from pytestqt.qtbot import QtBot

from kdocs_viewer.gui.browser import PictureBrowser
from kdocs_viewer.gui.drag_export import MAX_DRAG_PICTURES
from kdocs_viewer.gui.originals import LOCK_NAME, default_root
from kdocs_viewer.gui.retired import retired_count
from kdocs_viewer.standin.server import StandinServer
from tests.gui.browser_helpers import MakeBrowser, keeper_of

pytest_plugins = ["tests.gui.browser_support"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("drag")
    for index in range(3):
        Image.new("RGB", (120, 90), (80 * index, 40, 160)).save(path / f"{index}.png")
    return path


@pytest.fixture
def browser(
    qtbot: QtBot, make_browser: MakeBrowser, folder: Path
) -> tuple[PictureBrowser, StandinServer]:
    harness = make_browser(pictures=120, dataset=folder, size=(520, 360))
    qtbot.waitUntil(lambda: harness.browser.stats().loaded >= 2, timeout=5000)
    return harness.browser, harness.server


def test_drag_offers_private_files_with_the_picture_bytes(
    qtbot: QtBot, browser: tuple[PictureBrowser, StandinServer]
) -> None:
    widget, server = browser
    refs = server.pictures()
    chosen = [refs[0], refs[1], refs[100]]  # the last one is far away: fetched by the export itself
    widget.select_refs([ref.ident for ref in chosen])
    mime = widget.drag_mime()
    assert mime is not None
    urls = mime.urls()
    assert len(urls) == 3 and all(url.isLocalFile() for url in urls)
    paths = [Path(url.toLocalFile()) for url in urls]
    assert [p.read_bytes() for p in paths] == [server.image_bytes(ref.pic_key) for ref in chosen]
    assert all(p.suffix == ".png" for p in paths)
    exporter = widget.drag_exporter()
    assert exporter is not None and exporter.root() is not None
    root = exporter.root()
    assert root is not None and all(root in p.parents for p in paths)
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    # Beside the originals' folders, locked like them: after a crash the next session's sweep deletes it.
    assert root.parent == default_root() and (root / LOCK_NAME).exists()
    assert "Sig=" not in mime.text() and "http" not in " ".join(url.toString() for url in urls)

    widget.shutdown()
    assert not root.exists()  # the temporary files go away with the session


def test_drag_refuses_huge_selections(qtbot: QtBot, browser: tuple[PictureBrowser, StandinServer]) -> None:
    widget, server = browser
    widget.select_refs([ref.ident for ref in server.pictures()[: MAX_DRAG_PICTURES + 1]])
    with qtbot.waitSignal(widget.errorOccurred, timeout=1000) as blocker:
        assert widget.drag_mime() is None
    assert str(MAX_DRAG_PICTURES) in blocker.args[0]


def test_a_huge_selection_keeps_only_one_batch_fresh(
    qtbot: QtBot, browser: tuple[PictureBrowser, StandinServer]
) -> None:
    widget, server = browser
    refs = server.pictures()
    with qtbot.waitSignal(widget.selectionCountChanged, timeout=1000) as blocker:
        widget.select_refs([ref.ident for ref in refs])
    assert blocker.args == [120]
    keeper = keeper_of(widget)
    assert keeper is not None
    assert keeper.needed_by("selected") == {ref.ident for ref in refs[:100]}  # quota guard


def test_closing_during_a_slow_drag_does_not_wait_and_leaves_no_file(
    qtbot: QtBot, browser: tuple[PictureBrowser, StandinServer]
) -> None:
    """Closing the workbook while a drag's picture is still on a slow wire froze the window until the
    picture host answered: shutdown joined the writers. Now it returns at once, and the late writer removes
    what it wrote."""
    widget, server = browser
    keeper = keeper_of(widget)
    qtbot.waitUntil(keeper.is_idle, timeout=8000)  # every link resolved: the writer's wait is the GET
    far = server.pictures()[110]  # never on screen, so never fetched
    server.set_latency_ms(1500)
    exporter = widget.drag_exporter()
    assert exporter is not None
    staging = exporter.prepare([far])
    assert staging is not None and staging.thread is not None
    assert exporter.mime_for([far], wait_ms=50) is None  # still writing
    root = exporter.root()
    assert root is not None
    widget.shutdown()
    assert staging.thread.is_alive(), "shutdown waited for the writer"
    assert not root.exists()
    staging.thread.join(10)
    assert not staging.thread.is_alive()
    assert not root.exists()  # nothing the late writer made is left
    qtbot.waitUntil(lambda: retired_count() == 0, timeout=5000)

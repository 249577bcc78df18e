"""PreviewDialog through the browser: opens on Enter, loads off-thread, navigates, shows details, zooms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QColor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QLabel, QPushButton
from pytestqt.qtbot import QtBot

from kdocs_viewer.gui.browser import PictureBrowser
from kdocs_viewer.gui.preview import PreviewDialog, format_bytes
from kdocs_viewer.gui.tile_delegate import CHECKER_COLOURS
from kdocs_viewer.standin.server import StandinServer
from tests.gui.browser_helpers import MakeBrowser, grid_of, keeper_of, preview_of, proxy_of, visible_items

pytest_plugins = ["tests.gui.browser_support"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("preview")
    Image.new("RGB", (1200, 900), "#c33").save(path / "0.jpg")
    Image.new("RGBA", (64, 48), (0, 0, 255, 128)).save(path / "1.png")
    Image.new("RGB", (500, 700), "#3c3").save(path / "2.jpg")
    return path


@pytest.fixture
def browser(
    qtbot: QtBot, make_browser: MakeBrowser, folder: Path
) -> tuple[PictureBrowser, StandinServer]:
    harness = make_browser(pictures=6, dataset=folder, size=(640, 420))
    qtbot.waitUntil(lambda: harness.browser.stats().loaded >= 3, timeout=5000)
    return harness.browser, harness.server


def open_preview(qtbot: QtBot, widget: PictureBrowser, row: int = 0) -> PreviewDialog:
    grid = grid_of(widget)
    grid.setFocus()
    grid.setCurrentIndex(proxy_of(widget).index(row, 0))
    qtbot.keyClick(grid, Qt.Key.Key_Return)
    preview = preview_of(widget)
    assert preview is not None and preview.isVisible()
    qtbot.waitUntil(lambda: not preview.is_loading() and preview.image_view().has_pixmap(), timeout=5000)
    return preview


def test_preview_opens_and_shows_details(qtbot: QtBot, browser: tuple[PictureBrowser, StandinServer]) -> None:
    widget, server = browser
    ref = server.pictures()[0]
    preview = open_preview(qtbot, widget)
    assert preview.current_ref() == ref
    assert preview.detail_text("key") == ref.pic_key
    assert preview.detail_text("tag") == ref.tag
    assert preview.detail_text("cell") == ref.cell
    assert preview.detail_text("caption") == ref.caption
    assert preview.detail_text("format") == "JPEG"
    assert preview.detail_text("pixels") == "1200 × 900"
    assert preview.detail_text("bytes") == format_bytes(len(server.image_bytes(ref.pic_key)))
    left = preview.detail_text("left")
    assert re.fullmatch(r"\d+:\d\d|∞", left)
    if left != "∞":  # live: follows the browser's 1 Hz clock
        qtbot.waitUntil(lambda: preview.detail_text("left") != left, timeout=2500)
    keeper = keeper_of(widget)
    assert keeper is not None and keeper.needed_by("preview") == {ref.ident}  # kept fresh while shown


def test_preview_navigates_with_keys_and_buttons(
    qtbot: QtBot, browser: tuple[PictureBrowser, StandinServer]
) -> None:
    widget, server = browser
    refs = server.pictures()
    preview = open_preview(qtbot, widget)
    qtbot.keyClick(preview, Qt.Key.Key_Right)
    assert preview.current_ref() == refs[1]
    qtbot.waitUntil(lambda: preview.detail_text("pixels") == "64 × 48", timeout=5000)
    assert preview.detail_text("format") == "PNG"
    preview.show_next()
    assert preview.current_ref() == refs[2]
    qtbot.keyClick(preview, Qt.Key.Key_Left)
    qtbot.keyClick(preview, Qt.Key.Key_Left)
    assert preview.current_row() == 0
    qtbot.keyClick(preview, Qt.Key.Key_Left)  # stays on the first
    assert preview.current_row() == 0
    assert grid_of(widget).currentIndex().row() == 0  # the grid follows the preview

    preview.close()
    keeper = keeper_of(widget)
    assert keeper is not None and refs[0].ident not in keeper.needed() - {
        i.ident for i in visible_items(widget)
    }


def test_zoom_modes(qtbot: QtBot, browser: tuple[PictureBrowser, StandinServer]) -> None:
    widget, _ = browser
    preview = open_preview(qtbot, widget)
    view = preview.image_view()
    assert view.is_fit() and view.zoom() < 1.0  # 1200×900 fits a smaller window
    view.actual_size()
    assert view.zoom() == pytest.approx(1.0)
    view.zoom_by(1.25)
    assert view.zoom() == pytest.approx(1.25)
    assert not view.is_fit()
    view.fit()
    assert view.is_fit() and view.zoom() < 1.0


def zoom_label(preview: PreviewDialog) -> QLabel:
    label = preview.findChild(QLabel, "zoomLevel")
    assert label is not None
    return label


def test_zoom_readout_and_view_only_rotation(
    qtbot: QtBot, browser: tuple[PictureBrowser, StandinServer]
) -> None:
    widget, _ = browser
    preview = open_preview(qtbot, widget)
    view = preview.image_view()
    assert zoom_label(preview).text() == f"{round(view.zoom() * 100)} %"
    qtbot.keyClick(preview, Qt.Key.Key_1)
    assert zoom_label(preview).text() == "100 %"
    qtbot.keyClick(preview, Qt.Key.Key_0)  # back to fit: the readout follows
    assert zoom_label(preview).text() == f"{round(view.zoom() * 100)} %" != "100 %"

    button = preview.findChild(QPushButton, "rotateRight")
    assert button is not None
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert view.rotation() == 90
    rect = view.sceneRect()
    assert (round(rect.width()), round(rect.height())) == (900, 1200)  # turned on screen
    qtbot.keyClick(preview, Qt.Key.Key_L)
    qtbot.keyClick(preview, Qt.Key.Key_L)
    assert view.rotation() == 270
    preview.show_next()  # a new picture starts upright: rotation is for looking, not a setting
    qtbot.waitUntil(lambda: not preview.is_loading() and view.has_pixmap(), timeout=5000)
    assert view.rotation() == 0


def test_save_and_copy_inside_the_preview(
    qtbot: QtBot, browser: tuple[PictureBrowser, StandinServer]
) -> None:
    widget, server = browser
    ref = server.pictures()[0]
    preview = open_preview(qtbot, widget)
    preview.activateWindow()
    save = preview.findChild(QAction, "previewSave")
    copy = preview.findChild(QAction, "previewCopy")
    assert save is not None and copy is not None
    assert save.shortcut() == QKeySequence("Ctrl+S") and copy.shortcut() == QKeySequence("Ctrl+C")
    with qtbot.waitSignal(widget.saveRequested, timeout=2000) as asked:
        save.trigger()
    assert asked.args == [[ref]]
    clipboard = QGuiApplication.clipboard()
    with qtbot.waitSignals([clipboard.dataChanged, widget.noted], timeout=4000):
        copy.trigger()
    assert (clipboard.image().width(), clipboard.image().height()) == (1200, 900)


def test_full_screen_toggles(qtbot: QtBot, browser: tuple[PictureBrowser, StandinServer]) -> None:
    widget, _ = browser
    preview = open_preview(qtbot, widget)
    action = preview.findChild(QAction, "previewFullScreen")
    assert action is not None and action.shortcut() == QKeySequence("F11")
    action.trigger()
    assert preview.isFullScreen() and action.isChecked()
    action.trigger()
    assert not preview.isFullScreen() and not action.isChecked()


def test_transparent_picture_on_the_checkerboard(
    qtbot: QtBot, browser: tuple[PictureBrowser, StandinServer]
) -> None:
    widget, _ = browser
    preview = open_preview(qtbot, widget, row=1)  # 64×48, half-transparent blue
    view = preview.image_view()
    assert view.zoom() == pytest.approx(1.0)  # small: shown at its size
    area = view.mapFromScene(view.sceneRect()).boundingRect()
    image = view.viewport().grab(area.adjusted(2, 2, -2, -2)).toImage()
    colours = {image.pixelColor(x, y).rgb() for y in range(image.height()) for x in range(image.width())}
    blended = {
        QColor(round(c.red() / 2), round(c.green() / 2), round((c.blue() + 255) / 2)).rgb()
        for c in CHECKER_COLOURS
    }
    assert all(any(near(colour, want) for colour in colours) for want in blended)


def near(a: int, b: int) -> bool:
    ca, cb = QColor.fromRgb(a), QColor.fromRgb(b)
    return max(abs(ca.red() - cb.red()), abs(ca.green() - cb.green()), abs(ca.blue() - cb.blue())) <= 4

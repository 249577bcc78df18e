"""What users expect of an image viewer, through the main window: the tiles' context menu, copy feedback,
"N of M shown", Ctrl+F, Ctrl+= / Ctrl+-, the Workbook and Help menus, the shortcuts dialog, Save all…, F11."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QContextMenuEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QMenu, QTextBrowser
from pytestqt.qtbot import QtBot

from kdocs_viewer.core.saving import SaveSummary
from kdocs_viewer.gui.help_dialogs import ReadmeDialog, ShortcutsDialog
from kdocs_viewer.gui.main_window import MainWindow
from kdocs_viewer.gui.picture_grid import TILE_BUCKETS
from tests.gui.browser_helpers import grid_of, preview_of, proxy_of
from tests.gui.shell_helpers import DemoWindow, FolderChooser, child

pytest_plugins = ["tests.gui.shell_support"]
# A popup menu on the offscreen platform: it cannot raise windows or grab the keyboard, and says so.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support (raise|grabbing the keyboard)")


def action(window: MainWindow, name: str) -> QAction:
    found = window.findChild(QAction, name)
    assert isinstance(found, QAction), name
    return found


def right_click_tile(qtbot: QtBot, window: MainWindow, row: int) -> QMenu:
    """A real context-menu event on tile ``row``; returns the menu once it is on screen."""
    grid = grid_of(window.browser)
    centre = grid.visualRect(proxy_of(window.browser).index(row, 0)).center()
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, centre, grid.viewport().mapToGlobal(centre))
    QApplication.sendEvent(grid.viewport(), event)
    menu = window.findChild(QMenu, "tileMenu")
    assert isinstance(menu, QMenu)
    qtbot.waitUntil(menu.isVisible, timeout=2000)
    return menu


def menu_action(menu: QMenu, name: str) -> QAction:
    found = [a for a in menu.actions() if a.objectName() == name]
    assert len(found) == 1, name
    return found[0]


def status_note(window: MainWindow) -> str:
    return window.statusBar().currentMessage()


def test_tile_menu_acts_on_the_clicked_tile_and_the_selection(
    demo_window: Callable[..., DemoWindow], qtbot: QtBot
) -> None:
    demo = demo_window(pictures=6)
    window = demo.window
    refs = window.browser.all_refs()
    clipboard = QGuiApplication.clipboard()

    menu = right_click_tile(qtbot, window, 2)
    assert [r.ident for r in window.browser.selected_refs()] == [refs[2].ident]  # selected alone
    menu_action(menu, "tileMenuCopyKey").trigger()
    menu.close()
    assert clipboard.text() == refs[2].pic_key
    assert status_note(window) == "Key copied"

    menu = right_click_tile(qtbot, window, 3)
    menu_action(menu, "tileMenuCopyCell").trigger()
    menu.close()
    assert refs[3].cell and clipboard.text() == refs[3].cell
    assert status_note(window) == "Cell address copied"

    # Several selected, right-click inside the selection: it stays, the texts cover all of it.
    window.browser.select_refs([refs[1].ident, refs[4].ident])
    qtbot.waitUntil(lambda: len(window.browser.selected_refs()) == 2, timeout=2000)
    menu = right_click_tile(qtbot, window, 4)
    assert len(window.browser.selected_refs()) == 2
    assert menu_action(menu, "tileMenuSave").text() == "Save 2 pictures…"
    menu_action(menu, "tileMenuCopyKey").trigger()
    assert clipboard.text() == f"{refs[1].pic_key}\n{refs[4].pic_key}"
    assert status_note(window) == "2 keys copied"

    with qtbot.waitSignal(clipboard.dataChanged, timeout=5000):
        menu_action(menu, "tileMenuCopyImage").trigger()  # the clicked tile, full size
    menu.close()
    qtbot.waitUntil(lambda: status_note(window) == "Picture copied", timeout=5000)
    assert not clipboard.image().isNull()

    menu = right_click_tile(qtbot, window, 5)
    menu_action(menu, "tileMenuPreview").trigger()
    menu.close()
    preview = preview_of(window.browser)
    assert preview is not None and preview.isVisible()
    assert preview.current_ref() == refs[5]
    preview.close()


def test_tile_menu_save_and_save_all(
    demo_window: Callable[..., DemoWindow], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qtbot: QtBot
) -> None:
    demo = demo_window(pictures=6)
    window = demo.window
    out = tmp_path / "out"
    FolderChooser(monkeypatch, out, template="{pic_key}")
    menu = right_click_tile(qtbot, window, 1)
    with qtbot.waitSignal(window.saver.saveFinished, timeout=15_000) as done:
        menu_action(menu, "tileMenuSave").trigger()
    menu.close()
    summary = done.args[0]
    assert isinstance(summary, SaveSummary)
    assert [r.ref for r in summary.saved] == [window.browser.all_refs()[1]]

    every = tmp_path / "all"
    FolderChooser(monkeypatch, every, template="{pic_key}")
    save_all = action(window, "saveAllAction")
    assert save_all.shortcut() == QKeySequence("Ctrl+Shift+S")
    line = child(window, QLineEdit, "pictureFilter")
    line.setText(window.browser.all_refs()[0].pic_key)  # the filter hides most: Save all still means all
    qtbot.waitUntil(save_all.isEnabled, timeout=3000)
    with qtbot.waitSignal(window.saver.saveFinished, timeout=15_000) as done:
        save_all.trigger()
    summary = done.args[0]
    assert isinstance(summary, SaveSummary)
    assert {r.ref.ident for r in summary.saved} == {r.ident for r in window.browser.all_refs()}
    assert len(list(every.iterdir())) == 6


def test_filter_count_ctrl_f_and_tile_size_keys(demo_window: Callable[..., DemoWindow], qtbot: QtBot) -> None:
    demo = demo_window(pictures=6)
    window = demo.window
    shown = child(window, QLabel, "shownCount")
    line = child(window, QLineEdit, "pictureFilter")
    assert not shown.isVisible()

    filter_action = action(window, "filterAction")
    assert filter_action.shortcut() == QKeySequence("Ctrl+F")
    grid_of(window.browser).setFocus()
    filter_action.trigger()
    qtbot.waitUntil(line.hasFocus, timeout=2000)
    qtbot.keyClicks(line, window.browser.all_refs()[0].pic_key)
    assert shown.isVisible()
    assert shown.text() == "1 of 6 shown"
    line.clear()
    assert not shown.isVisible()

    bigger, smaller = action(window, "biggerTilesAction"), action(window, "smallerTilesAction")
    assert QKeySequence("Ctrl+=") in bigger.shortcuts() and smaller.shortcut() == QKeySequence("Ctrl+-")
    start = window.browser.tile_size()
    at = TILE_BUCKETS.index(start)
    bigger.trigger()
    assert window.browser.tile_size() == TILE_BUCKETS[at + 1]
    smaller.trigger()
    smaller.trigger()
    assert window.browser.tile_size() == TILE_BUCKETS[at - 1]
    for _ in TILE_BUCKETS:  # stops at the smallest
        smaller.trigger()
    assert window.browser.tile_size() == TILE_BUCKETS[0]


def test_menus_where_people_look(make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    menus = {
        menu.title().replace("&", ""): [a.objectName() or a.text().replace("&", "") for a in menu.actions()]
        for top in window.menuBar().actions()
        if isinstance(menu := top.menu(), QMenu)
    }
    assert list(menus) == ["File", "Account", "Workbook", "Edit", "View", "Help"]
    assert window.opener.open_action in menu_of(window, "File").actions()
    assert window.input.open_action in menu_of(window, "File").actions()
    assert "saveAllAction" in menus["File"]
    workbook = menu_of(window, "Workbook").actions()
    assert window.input.find_action in workbook and window.input.load_action in workbook
    retry = action(window, "retryAction")
    assert retry in workbook and retry.shortcut() == QKeySequence("F5")
    assert action(window, "fullScreenAction") in menu_of(window, "View").actions()
    assert menus["Help"][:2] == ["shortcutsAction", "readmeAction"]


def menu_of(window: MainWindow, title: str) -> QMenu:
    for top in window.menuBar().actions():
        menu = top.menu()
        if isinstance(menu, QMenu) and menu.title().replace("&", "") == title:
            return menu
    raise AssertionError(title)


def test_shortcuts_dialog_lists_the_real_actions(
    make_window: Callable[..., MainWindow], qtbot: QtBot
) -> None:
    window = make_window()
    action(window, "shortcutsAction").trigger()
    dialog = window.findChild(ShortcutsDialog, "shortcutsDialog")
    assert isinstance(dialog, ShortcutsDialog)
    qtbot.waitExposed(dialog)
    rows = dialog.rows()
    native = QKeySequence.SequenceFormat.NativeText
    assert ("File", "Save selected…", QKeySequence("Ctrl+S").toString(native)) in rows
    assert ("Workbook", "Retry failed pictures", "F5") in rows
    assert ("Preview", "Rotate right", "R") in rows
    # Built from the actions: a changed shortcut shows at the next opening.
    dialog.close()
    window.save_action.setShortcut(QKeySequence("Ctrl+Alt+S"))
    action(window, "shortcutsAction").trigger()
    qtbot.waitUntil(lambda: window.findChild(ShortcutsDialog, "shortcutsDialog") is not dialog, timeout=2000)
    again = [d for d in window.findChildren(ShortcutsDialog) if d.isVisible()]
    assert len(again) == 1
    assert ("File", "Save selected…", QKeySequence("Ctrl+Alt+S").toString(native)) in again[0].rows()
    again[0].close()


def test_readme_opens_in_the_app(make_window: Callable[..., MainWindow], qtbot: QtBot) -> None:
    window = make_window()
    action(window, "readmeAction").trigger()
    dialog = window.findChild(ReadmeDialog, "readmeDialog")
    assert isinstance(dialog, ReadmeDialog)
    qtbot.waitExposed(dialog)
    text = child(dialog, QTextBrowser, "readmeText").toPlainText()
    assert "kdocs-pics" in text  # the project's own README, rendered
    dialog.close()


def test_f11_full_screen(make_window: Callable[..., MainWindow], qtbot: QtBot) -> None:
    window = make_window()
    full = action(window, "fullScreenAction")
    assert full.shortcut() == QKeySequence("F11")
    full.trigger()
    qtbot.waitUntil(window.isFullScreen, timeout=2000)
    assert full.isChecked()
    full.trigger()
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=2000)
    assert not full.isChecked()


def test_ctrl_f_key_reaches_the_filter(demo_window: Callable[..., DemoWindow], qtbot: QtBot) -> None:
    window = demo_window(pictures=6).window
    grid = grid_of(window.browser)
    grid.setFocus()
    qtbot.waitUntil(grid.hasFocus, timeout=2000)
    qtbot.keyClick(grid, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    line = child(window, QLineEdit, "pictureFilter")
    qtbot.waitUntil(line.hasFocus, timeout=2000)
    start = window.browser.tile_size()
    qtbot.keyClick(grid, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert window.browser.tile_size() == TILE_BUCKETS[TILE_BUCKETS.index(start) - 1]

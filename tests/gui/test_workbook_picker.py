""" "Open workbook…" against the stand-in's file lists: pick by name, search, paging, a refused token, closing
the picker while it loads, and the demo's workbooks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDateTime, QLocale, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QComboBox, QDialog, QLabel, QLineEdit, QPushButton, QTableView
from pytestqt.qtbot import QtBot

from kdocs_viewer.core.api import DEFAULT_RETRY
from kdocs_viewer.core.contract import FILES_FLAT_PATH, FILES_PAGE_SIZE, FILES_RECENT_PATH
from kdocs_viewer.core.files import FileItem, is_spreadsheet_name
from kdocs_viewer.gui.main_window import MainWindow
from kdocs_viewer.gui.signin_dialog import SignInDialog
from kdocs_viewer.gui.token_dialog import TokenDialog
from kdocs_viewer.gui.workbook_picker import WorkbookPicker
from kdocs_viewer.standin.oauth import DEMO_WORKBOOK_NAME, FileEntry
from kdocs_viewer.standin.server import StandinServer
from tests.gui.shell_helpers import DemoWindow, TokenTyper, Ui, child

pytest_plugins = ["tests.gui.shell_support"]  # keyring fixtures come from the root conftest

MakeWindow = Callable[..., MainWindow]


def recent_spreadsheets(server: StandinServer) -> list[FileEntry]:
    """What "Recent" lists: the user's spreadsheets, newest first (the stand-in's order)."""
    return [f for f in server.user_files() if is_spreadsheet_name(f.name)]


def own_spreadsheets(server: StandinServer) -> list[FileEntry]:
    return [f for f in recent_spreadsheets(server) if f.ftype == "file"]


def open_picker(window: MainWindow, qtbot: QtBot) -> WorkbookPicker:
    """File → Open workbook… (Ctrl+O); the picker on screen."""
    window.opener.open_action.trigger()
    qtbot.waitUntil(lambda: picker_on_screen(window) is not None, timeout=5000)
    picker = picker_on_screen(window)
    assert picker is not None
    return picker


def picker_on_screen(window: MainWindow) -> WorkbookPicker | None:
    shown = [p for p in window.findChildren(WorkbookPicker, "workbookPicker") if p.isVisible()]
    assert len(shown) <= 1
    return shown[0] if shown else None


def names(picker: WorkbookPicker) -> list[str]:
    return [item.name for item in picker.shown_items()]


def status(picker: WorkbookPicker) -> str:
    return child(picker, QLabel, "pickerStatus").text()


def wait_listed(qtbot: QtBot, picker: WorkbookPicker, count: int) -> None:
    def listed() -> None:
        assert status(picker) == f"{count:,} workbooks."

    qtbot.waitUntil(listed, timeout=10_000)


def requests_to(server: StandinServer, path: str) -> int:
    return sum(1 for entry in server.request_log() if entry.path == path)


@pytest.fixture
def server(standin_factory: Callable[..., StandinServer], small_dataset: Path) -> StandinServer:
    return standin_factory(workbooks=5, pictures=6, dataset=small_dataset)


def test_a_workbook_picked_by_name_shows_its_pictures_and_sheets(
    make_window: MakeWindow,
    server: StandinServer,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    typer = TokenTyper(monkeypatch, "demo-token", remember=False)
    window = make_window(base_url=server.base_url)
    ui = Ui(window)
    assert window.opener.open_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Open)
    assert child(window, QLabel, "workbookName").text() == "No workbook open"

    picker = open_picker(window, qtbot)  # no token yet: it is asked for first
    assert typer.calls == 1
    expected = recent_spreadsheets(server)
    wait_listed(qtbot, picker, len(expected))
    assert names(picker) == [f.name for f in expected]  # newest first
    view = child(picker, QTableView, "recentList")
    model = view.model()
    shared = [f for f in expected if f.ftype == "sharefile"]
    assert shared, "the stand-in shares some workbooks with the user"
    for row, entry in enumerate(expected):
        stamp = QDateTime.fromSecsSinceEpoch(entry.mtime)
        assert model.index(row, 1).data() == QLocale().toString(stamp, QLocale.FormatType.ShortFormat)
        assert bool(model.index(row, 2).data()) == (entry.ftype == "sharefile")

    search = child(picker, QLineEdit, "workbookSearch")
    qtbot.waitUntil(search.hasFocus, timeout=2000)  # where the picker opens
    qtbot.keyClicks(search, "DEMO work")  # every word, any case
    assert names(picker) == [DEMO_WORKBOOK_NAME]
    assert status(picker) == f"1 of {len(expected)} workbooks match."
    qtbot.keyClick(search, Qt.Key.Key_Return)  # the top match opens

    qtbot.waitUntil(lambda: picker_on_screen(window) is None, timeout=5000)
    qtbot.waitUntil(lambda: window.browser.stats().pictures == len(server.pictures()), timeout=10_000)
    assert [r.ident for r in window.browser.all_refs()] == [r.ident for r in server.pictures()]
    assert child(window, QLabel, "workbookName").text() == DEMO_WORKBOOK_NAME
    assert window.windowTitle() == f"{DEMO_WORKBOOK_NAME} — KDocs picture viewer"
    assert ui.file_token.text() == "demo-workbook"
    sheets = child(window, QComboBox, "sheetFilter")
    sheet_names = list(dict.fromkeys(r.sheet for r in server.pictures() if r.sheet))
    assert [sheets.itemText(i) for i in range(sheets.count())] == ["All sheets", *sheet_names]
    assert sheets.isVisible()
    assert not window.input.isVisible()  # the pic list panel stayed out of the way
    assert typer.calls == 1


def test_the_keyboard_goes_from_the_search_box_into_the_list(
    make_window: MakeWindow,
    server: StandinServer,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    TokenTyper(monkeypatch, "demo-token", remember=False)
    window = make_window(base_url=server.base_url)
    picker = open_picker(window, qtbot)
    expected = recent_spreadsheets(server)
    wait_listed(qtbot, picker, len(expected))
    search = child(picker, QLineEdit, "workbookSearch")
    view = child(picker, QTableView, "recentList")
    qtbot.waitUntil(search.hasFocus, timeout=2000)
    qtbot.keyClick(search, Qt.Key.Key_Down)
    assert view.hasFocus() and view.currentIndex().row() == 0
    qtbot.keyClick(view, Qt.Key.Key_Down)
    second = expected[1]
    assert picker.current_item() == FileItem(second.file_token, second.name, second.mtime, second.ftype,
                                             second.size, second.link_id)  # fmt: skip
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: picker_on_screen(window) is None, timeout=5000)
    qtbot.waitUntil(lambda: window.input.workbook_name() == second.name, timeout=5000)
    # Another workbook of the stand-in has no pictures: said so, and no other workbook's pictures stay.
    qtbot.waitUntil(lambda: Ui(window).message() == ("warning", "No pictures found in this workbook."))
    assert window.browser.stats().pictures == 0


def test_a_share_link_in_the_search_box_finds_its_workbook_and_a_double_click_opens_it(
    make_window: MakeWindow,
    server: StandinServer,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    TokenTyper(monkeypatch, "demo-token", remember=False)
    window = make_window(base_url=server.base_url)
    picker = open_picker(window, qtbot)
    expected = recent_spreadsheets(server)
    wait_listed(qtbot, picker, len(expected))
    wanted = expected[2]
    child(picker, QLineEdit, "workbookSearch").setText(f"https://www.kdocs.cn/l/{wanted.link_id}")
    assert names(picker) == [wanted.name]
    view = child(picker, QTableView, "recentList")
    cell = view.visualRect(view.model().index(0, 0)).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=cell)  # QTest's double click
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=cell)  # needs a press first
    qtbot.waitUntil(lambda: picker_on_screen(window) is None, timeout=5000)
    assert Ui(window).file_token.text() == wanted.file_token
    qtbot.waitUntil(lambda: window.input.workbook_name() == wanted.name, timeout=5000)


def test_lists_longer_than_a_page_come_page_by_page(
    make_window: MakeWindow,
    standin_factory: Callable[..., StandinServer],
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    server = standin_factory(workbooks=160, pictures=4)
    recent, own = recent_spreadsheets(server), own_spreadsheets(server)
    assert len(server.user_files()) > FILES_PAGE_SIZE and len(own) > FILES_PAGE_SIZE
    TokenTyper(monkeypatch, "demo-token", remember=False)
    window = make_window(base_url=server.base_url)
    picker = open_picker(window, qtbot)
    wait_listed(qtbot, picker, len(recent))
    assert requests_to(server, FILES_RECENT_PATH) == 2
    assert requests_to(server, FILES_FLAT_PATH) == 0  # "All spreadsheets" loads when it is shown

    tabs = picker.findChild(type(picker.tabs), "workbookTabs")
    assert tabs is not None
    tabs.setCurrentIndex(1)
    wait_listed(qtbot, picker, len(own))
    assert requests_to(server, FILES_FLAT_PATH) == 2
    assert {item.file_token for item in picker.shown_items()} == {f.file_token for f in own}
    assert names(picker)[0] == DEMO_WORKBOOK_NAME  # newest first across both pages
    last = own[-1]  # on the second page
    child(picker, QLineEdit, "workbookSearch").setText(last.name)
    assert last.name in names(picker)

    picker.reject()
    again = open_picker(window, qtbot)  # the lists are kept for the session: no new calls
    assert len(again.shown_items()) == len(recent)
    assert requests_to(server, FILES_RECENT_PATH) == 2


def test_a_token_refused_while_listing_goes_through_the_token_controller(
    make_window: MakeWindow,
    server: StandinServer,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    server.set_token("fresh-token")  # what the user types first has expired
    window = make_window(base_url=server.base_url)
    asked: list[tuple[str, str]] = []  # (why the dialog asked, what the picker said meanwhile)

    def type_token(dialog: TokenDialog) -> int:
        picker = picker_on_screen(window)
        reason = getattr(dialog, "reason_label", None)
        said = status(picker) if picker is not None else ""
        asked.append((reason.text() if reason is not None else "", said))
        dialog.token_edit.setText("demo-token" if len(asked) == 1 else "fresh-token")
        dialog.remember_check.setChecked(False)
        return QDialog.DialogCode.Accepted.value

    monkeypatch.setattr(TokenDialog, "exec", type_token)
    # No token yet, so the window invites a sign-in; this user takes "Paste an access token instead…".
    monkeypatch.setattr(SignInDialog, "open", lambda dialog: dialog.paste_token_button.click())
    picker = open_picker(window, qtbot)
    expected = recent_spreadsheets(server)
    wait_listed(qtbot, picker, len(expected))
    assert len(asked) == 2  # the first token, then once more after the refusal
    reason, shown = asked[1]
    assert "20007" in reason
    assert shown.startswith("KDocs refused the access token")  # said in the picker, in words
    assert names(picker) == [f.name for f in expected]  # loaded again with the new token
    assert window.token.has_token()


def test_a_failed_listing_is_said_in_words_and_refresh_tries_again(
    make_window: MakeWindow,
    server: StandinServer,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    TokenTyper(monkeypatch, "demo-token", remember=False)
    window = make_window(base_url=server.base_url)
    server.queue_faults(["html"] * DEFAULT_RETRY.max_attempts)  # a portal page, every try
    picker = open_picker(window, qtbot)
    qtbot.waitUntil(lambda: status(picker).startswith("Could not list your workbooks: "), timeout=10_000)
    assert "demo-token" not in status(picker) and "http" not in status(picker)
    assert not child(picker, QPushButton, "pickerOpen").isEnabled()  # nothing to open
    child(picker, QPushButton, "pickerRefresh").click()
    wait_listed(qtbot, picker, len(recent_spreadsheets(server)))
    assert child(picker, QPushButton, "pickerOpen").isEnabled()


def test_closing_the_picker_stops_the_paging(
    make_window: MakeWindow,
    standin_factory: Callable[..., StandinServer],
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    server = standin_factory(workbooks=450, pictures=4, latency_ms=150)
    pages = -(-len(server.user_files()) // FILES_PAGE_SIZE)
    assert pages == 5
    TokenTyper(monkeypatch, "demo-token", remember=False)
    window = make_window(base_url=server.base_url)
    picker = open_picker(window, qtbot)
    qtbot.waitUntil(lambda: len(picker.shown_items()) > 0, timeout=10_000)
    assert status(picker).startswith("Loading your workbooks…")
    picker.reject()
    window.close()  # joins the listing's worker
    assert requests_to(server, FILES_RECENT_PATH) <= 2  # the page in flight, if any, and no more


def test_the_demo_has_its_workbooks_and_names_the_one_it_opens(
    demo_window: Callable[..., DemoWindow], qtbot: QtBot
) -> None:
    demo = demo_window(pictures=6, workbooks=5)
    window = demo.window
    qtbot.waitUntil(lambda: window.input.workbook_name() == DEMO_WORKBOOK_NAME, timeout=10_000)
    assert child(window, QLabel, "workbookName").text() == DEMO_WORKBOOK_NAME
    calls = requests_to(demo.server, FILES_RECENT_PATH)
    picker = open_picker(window, qtbot)
    expected = recent_spreadsheets(demo.server)
    wait_listed(qtbot, picker, len(expected))
    assert names(picker) == [f.name for f in expected]
    assert requests_to(demo.server, FILES_RECENT_PATH) == calls  # loaded at start, not again

"""Opening a workbook by what people have: a share link pasted where the file token goes, and the workbook of
the last session, reopened at start once a token is at hand."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from kdocs_viewer.core.contract import FILES_RECENT_PATH
from kdocs_viewer.core.secrets import TokenStore
from kdocs_viewer.gui import settings as S
from kdocs_viewer.gui.main_window import MainWindow
from kdocs_viewer.gui.token_controller import TokenSource
from kdocs_viewer.gui.workbook_picker import WorkbookPicker
from kdocs_viewer.standin.oauth import DEMO_WORKBOOK_NAME
from kdocs_viewer.standin.server import StandinServer
from tests.gui.shell_helpers import TokenTyper, Ui, child

pytest_plugins = ["tests.gui.shell_support"]  # keyring fixtures come from the root conftest

MakeWindow = Callable[..., MainWindow]

EXPLANATION = "This is a KDocs share link. Its id (cqUNKNOWN) names the link, not the workbook"


@pytest.fixture
def server(standin_factory: Callable[..., StandinServer], small_dataset: Path) -> StandinServer:
    return standin_factory(workbooks=5, pictures=6, dataset=small_dataset)


def link_of(server: StandinServer, file_token: str) -> str:
    entry = next(f for f in server.user_files() if f.file_token == file_token)
    return f"https://www.kdocs.cn/l/{entry.link_id}?from=wechat"


def picker_shown(window: MainWindow) -> bool:
    return any(p.isVisible() for p in window.findChildren(WorkbookPicker, "workbookPicker"))


def wait_pictures(qtbot: QtBot, window: MainWindow, server: StandinServer) -> None:
    qtbot.waitUntil(lambda: window.browser.stats().pictures == len(server.pictures()), timeout=10_000)


def test_a_share_link_is_explained_and_never_sent_as_a_file_token(
    make_window: MakeWindow,
    server: StandinServer,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    typer = TokenTyper(monkeypatch, accept=False)  # no token: nothing can be looked up
    window = make_window(base_url=server.base_url)
    ui = Ui(window)
    qtbot.keyClicks(ui.file_token, "https://www.kdocs.cn/l/cqUNKNOWN")
    kind, text = ui.message()
    assert kind == "warning" and text.startswith(EXPLANATION)
    assert "KDocs offers apps no way to find the workbook behind a link" in text
    assert "Open workbook…" in text  # the way out is offered
    assert typer.calls == 0  # pasting asks for nothing

    ui.find_button.click()  # pressing on: the picker, which needs a token (asked for; refused here)
    assert typer.calls == 1
    assert ui.message() == ("warning", "Not signed in: use Account → Sign in… or File → Set access token…")
    assert not picker_shown(window)
    assert server.request_log() == []  # the link never went to the server as a file token


def test_a_share_link_of_a_recent_workbook_opens_it(
    make_window: MakeWindow,
    server: StandinServer,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    TokenTyper(monkeypatch, "demo-token", remember=False)
    window = make_window(base_url=server.base_url)
    assert window.token.ask() is True
    ui = Ui(window)
    ui.file_token.setText(link_of(server, "demo-workbook"))  # pasted

    wait_pictures(qtbot, window, server)
    assert ui.file_token.text() == "demo-workbook"
    assert child(window, QLabel, "workbookName").text() == DEMO_WORKBOOK_NAME
    assert not picker_shown(window)
    assert [e.path for e in server.request_log()].count(FILES_RECENT_PATH) == 1


def test_a_share_link_the_recent_list_does_not_know_offers_the_picker(
    make_window: MakeWindow,
    server: StandinServer,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    TokenTyper(monkeypatch, "demo-token", remember=False)
    window = make_window(base_url=server.base_url)
    assert window.token.ask() is True
    ui = Ui(window)
    ui.file_token.setText("kdocs.cn/l/cqUNKNOWN")  # without the scheme, as some chat apps copy it

    def said_not_listed() -> None:
        kind, text = ui.message()
        assert kind == "warning" and text.startswith(EXPLANATION)
        assert "It is not among your recent files either" in text

    qtbot.waitUntil(said_not_listed, timeout=10_000)
    assert not picker_shown(window)
    qtbot.keyClick(ui.file_token, Qt.Key.Key_Return)  # Enter here: the picker, to choose it by name
    qtbot.waitUntil(lambda: picker_shown(window), timeout=5000)
    assert window.browser.stats().pictures == 0


def test_the_last_workbook_reopens_when_a_token_arrives(
    make_window: MakeWindow,
    server: StandinServer,
    settings_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    typer = TokenTyper(monkeypatch, "demo-token", remember=False)
    first = make_window(base_url=server.base_url)
    first.begin()
    assert first.token.ask() is True
    first.input.open_workbook(DEMO_WORKBOOK_NAME, "demo-workbook")  # as the picker does
    wait_pictures(qtbot, first, server)
    first.close()
    kept = settings_path.read_text(encoding="utf-8")
    assert "demo-workbook" in kept and "demo-token" not in kept

    typer.accept = False  # the first-run sign-in invitation is declined: no token yet
    second = make_window(base_url=server.base_url)
    second.begin()  # the keyring has no token: shown, not yet opened
    qtbot.waitUntil(lambda: second.token.source() is TokenSource.NONE, timeout=5000)
    ui = Ui(second)
    assert ui.file_token.text() == "demo-workbook"
    assert child(second, QLabel, "workbookName").text() == DEMO_WORKBOOK_NAME
    assert second.browser.stats().pictures == 0
    typer.accept = True
    assert second.token.ask() is True  # a token now (typed; a sign-in comes in the same way)
    wait_pictures(qtbot, second, server)
    assert second.windowTitle().startswith(DEMO_WORKBOOK_NAME)


def test_the_last_workbook_is_not_reopened_once_the_user_turned_elsewhere(
    make_window: MakeWindow,
    server: StandinServer,
    settings_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    first = make_window(base_url=server.base_url)
    first.opener.remember(DEMO_WORKBOOK_NAME, "demo-workbook")
    first.close()
    elsewhere = make_window(base_url="http://127.0.0.1:9")  # another server: its workbooks are not these
    elsewhere.begin()
    assert Ui(elsewhere).file_token.text() == ""
    elsewhere.close()

    typer = TokenTyper(monkeypatch, "demo-token", remember=False, accept=False)
    window = make_window(base_url=server.base_url)
    window.begin()  # the first-run sign-in invitation is declined: no token yet
    qtbot.waitUntil(lambda: window.token.source() is TokenSource.NONE, timeout=5000)
    ui = Ui(window)
    qtbot.keyClicks(ui.file_token, "-2")  # the user edits the token: this is no longer the last workbook
    assert child(window, QLabel, "workbookName").text() == ""
    typer.accept = True
    assert window.token.ask() is True  # a reopen would start now, with the token: none does
    assert ui.find_button.isEnabled()  # (a "Find pictures" in flight disables it)
    assert window.browser.stats().pictures == 0 and server.request_log() == []


@pytest.mark.keyring_service
def test_the_last_workbook_reopens_at_start_with_a_stored_token(
    make_window: MakeWindow,
    server: StandinServer,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    secret_service: Any,
) -> None:
    first = make_window(base_url=server.base_url, token_store=TokenStore(timeout=10))
    first.begin()
    qtbot.waitUntil(lambda: first.token.source() is TokenSource.NONE, timeout=10_000)
    TokenTyper(monkeypatch, "demo-token", remember=True)
    assert first.token.ask() is True
    qtbot.waitUntil(lambda: first.token.source() is TokenSource.KEYRING, timeout=10_000)
    first.input.open_workbook(DEMO_WORKBOOK_NAME, "demo-workbook")
    wait_pictures(qtbot, first, server)
    first.close()

    second = make_window(base_url=server.base_url, token_store=TokenStore(timeout=10))
    second.begin()
    wait_pictures(qtbot, second, server)  # no click: the stored token reopened it
    assert child(second, QLabel, "workbookName").text() == DEMO_WORKBOOK_NAME
    assert second.settings.get(S.LAST_WORKBOOK_FILE) == "demo-workbook"

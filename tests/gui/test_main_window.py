"""The main window: pic list input and its errors, find pictures, files, actions, status bar, closing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMessageBox, QToolButton
from pytestqt.qtbot import QtBot

from kdocs_viewer.core.piclist import parse_pic_list
from kdocs_viewer.gui import settings as S
from kdocs_viewer.gui.input_panel import SYNC_PARSE_CHARS
from kdocs_viewer.gui.main_window import MainWindow
from kdocs_viewer.standin.server import StandinServer
from tests.gui.browser_helpers import grid_of
from tests.gui.shell_helpers import DemoWindow, TokenTyper, Ui, child

pytest_plugins = ["tests.gui.shell_support"]  # keyring fixtures come from the root conftest

MakeWindow = Callable[..., MainWindow]

BAD_LIST = "abc123 attachment\ndef456\nghi789 local\n"


def test_bad_pic_list_names_the_line_and_keeps_the_text(make_window: MakeWindow) -> None:
    window = make_window()
    ui = Ui(window)
    ui.file_token.setText("demo-workbook")
    ui.editor.setPlainText(BAD_LIST)
    ui.editor.moveCursor(ui.editor.textCursor().MoveOperation.End)
    assert window.input.load() is False
    kind, text = ui.message()
    assert kind == "error"
    assert "line 2" in text
    assert ui.editor.toPlainText() == BAD_LIST  # nothing the user typed is lost
    assert ui.current_line() == 2
    assert not ui.editor.textCursor().hasSelection()  # a keystroke cannot wipe the line
    assert ui.editor.extraSelections()  # the line is highlighted
    ui.editor.insertPlainText("x")
    assert ui.editor.extraSelections() == []


def test_empty_pic_list_is_an_error(make_window: MakeWindow) -> None:
    window = make_window()
    ui = Ui(window)
    ui.file_token.setText("demo-workbook")
    assert window.input.load() is False
    assert ui.message()[0] == "error"


def test_missing_file_token_is_asked_for_before_any_token(make_window: MakeWindow, monkeypatch: Any) -> None:
    typer = TokenTyper(monkeypatch, "never-used")
    window = make_window()
    ui = Ui(window)
    ui.editor.setPlainText("abc123 attachment\n")
    assert window.input.load() is False
    assert "file token" in ui.message()[1]
    assert typer.calls == 0


def _long_list(bad_line: int | None = None) -> str:
    """More than SYNC_PARSE_CHARS of plain-text pic list; ``bad_line`` has no tag."""
    lines = [f"key{i:07d}{'x' * 20} attachment" for i in range(SYNC_PARSE_CHARS // 30 + 100)]
    if bad_line is not None:
        lines[bad_line - 1] = lines[bad_line - 1].split()[0]
    return "\n".join(lines)


def test_a_long_list_is_parsed_off_the_gui_thread_and_its_problem_still_named(
    make_window: MakeWindow, monkeypatch: pytest.MonkeyPatch, qtbot: QtBot
) -> None:
    import kdocs_viewer.core.piclist as piclist

    parsed_on: list[bool] = []
    real = piclist.parse_pic_list

    def recording(text: str) -> object:
        parsed_on.append(threading.current_thread() is threading.main_thread())
        return real(text)

    monkeypatch.setattr(piclist, "parse_pic_list", recording)
    window = make_window()
    ui = Ui(window)
    ui.file_token.setText("demo-workbook")
    text = _long_list(bad_line=4321)
    ui.editor.setPlainText(text)
    assert len(text) > SYNC_PARSE_CHARS
    assert window.input.load() is True  # started
    assert not ui.load_button.isEnabled() and "Reading" in ui.message()[1]
    qtbot.waitUntil(ui.load_button.isEnabled, timeout=10_000)
    assert parsed_on == [False]
    kind, message = ui.message()
    assert kind == "error" and "line 4321" in message
    assert ui.current_line() == 4321
    assert ui.editor.toPlainText() == text


def test_editing_while_a_long_list_is_parsed_drops_that_parse(
    make_window: MakeWindow, monkeypatch: pytest.MonkeyPatch, qtbot: QtBot
) -> None:
    import kdocs_viewer.core.piclist as piclist

    release = threading.Event()
    real = piclist.parse_pic_list

    def slow(text: str) -> object:
        assert release.wait(10)
        return real(text)

    monkeypatch.setattr(piclist, "parse_pic_list", slow)
    window = make_window()
    ui = Ui(window)
    ui.file_token.setText("demo-workbook")
    ui.editor.setPlainText(_long_list(bad_line=7))
    assert window.input.load() is True
    ui.editor.insertPlainText("x")  # the user keeps typing
    assert ui.load_button.isEnabled() and "changed" in ui.message()[1]
    release.set()
    qtbot.wait(300)  # the stale answer arrives and must be ignored
    assert "line 7" not in ui.message()[1]


def test_load_reports_duplicates_and_shows_pictures(
    make_window: MakeWindow,
    standin_factory: Callable[..., StandinServer],
    small_dataset: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    server = standin_factory(pictures=4, dataset=small_dataset)
    refs = server.pictures()
    typer = TokenTyper(monkeypatch, "demo-token", remember=False)
    window = make_window(base_url=server.base_url)
    ui = Ui(window)
    ui.file_token.setText("demo-workbook")
    lines = [f"{r.pic_key} {r.tag}" for r in refs] + [f"{refs[0].pic_key} {refs[0].tag}"]
    ui.editor.setPlainText("\n".join(lines))
    assert window.input.load() is True
    assert typer.calls == 1
    kind, text = ui.message()
    assert kind == "info"
    assert "4" in text and "Duplicates ignored: 1" in text and "line 5" in text
    assert [r.ident for r in window.browser.all_refs()] == [r.ident for r in refs]
    qtbot.waitUntil(lambda: window.browser.stats().loaded == 4, timeout=10_000)

    def status_bar_caught_up() -> None:  # it follows the browser's throttled status signal
        assert ui.counts.text().startswith("Pictures: 4 · loaded: 4 · failed: 0")
        calls = server.api_calls_today()
        assert ui.api_calls.text() == f"API calls today: {calls}"  # the server stated no daily limit

    qtbot.waitUntil(status_bar_caught_up, timeout=5000)
    assert ui.token_status.text() == "Token: this session only"


def test_find_pictures_fills_the_editor_with_a_round_tripping_list(
    demo_window: Callable[..., DemoWindow],
) -> None:
    demo = demo_window(pictures=6)
    parsed = parse_pic_list(demo.ui.editor.toPlainText())
    expected = demo.server.pictures()
    assert [(r.ident, r.cell) for r in parsed.pics] == [(r.ident, r.cell) for r in expected]
    assert demo.ui.pictures.currentWidget() is demo.window.browser


def test_open_file_reads_in_a_worker_and_is_undoable(
    make_window: MakeWindow, tmp_path: Path, qtbot: QtBot
) -> None:
    window = make_window()
    ui = Ui(window)
    ui.editor.setPlainText("typed by hand")
    path = tmp_path / "list.csv"
    path.write_text("pic_key,tag\nabc123,attachment\n", encoding="utf-8")
    window.input.open_file(path)
    qtbot.waitUntil(lambda: "abc123" in ui.editor.toPlainText(), timeout=5000)
    assert "list.csv" in ui.message()[1]
    ui.editor.undo()
    assert ui.editor.toPlainText() == "typed by hand"


def test_dropping_a_file_on_the_editor_reads_it(
    make_window: MakeWindow, tmp_path: Path, qtbot: QtBot
) -> None:
    window = make_window()
    ui = Ui(window)
    path = tmp_path / "pics.txt"
    path.write_text("# GB18030 too\nabc123 attachment 中文\n", encoding="gb18030")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    assert ui.editor.canInsertFromMimeData(mime)
    ui.editor.insertFromMimeData(mime)
    qtbot.waitUntil(lambda: "abc123" in ui.editor.toPlainText(), timeout=5000)
    assert "中文" in ui.editor.toPlainText()
    assert str(path) not in ui.editor.toPlainText()  # the file's text, not its URL


def test_the_pic_list_panel_stays_out_of_the_way_until_there_is_something_to_see(
    make_window: MakeWindow, settings_path: Path, tmp_path: Path, qtbot: QtBot
) -> None:
    window = make_window()
    ui = Ui(window)
    assert not window.input.isVisible() and not ui.editor.isVisible()  # the grid's place by default
    assert ui.file_token.isVisible() and ui.find_button.isVisible()  # the workbook bar stays

    ui.editor.setPlainText(BAD_LIST)  # e.g. left from an earlier import, then Load (Ctrl+Return)
    ui.file_token.setText("demo-workbook")
    assert window.input.load() is False
    assert ui.editor.isVisible() and ui.current_line() == 2  # shown, at the bad line

    toggle = child(window, QToolButton, "picListToggle")
    toggle.click()  # hidden again, and remembered
    assert not ui.editor.isVisible()
    assert window.settings.get(S.PIC_LIST_PANEL) is False

    path = tmp_path / "list.csv"
    path.write_text("pic_key,tag\ndropped1,attachment\n", encoding="utf-8")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                      Qt.KeyboardModifier.NoModifier)  # fmt: skip
    window.dropEvent(drop)  # dropped on the window: read, and the panel opens to show it
    qtbot.waitUntil(lambda: "dropped1" in ui.editor.toPlainText(), timeout=5000)
    assert ui.editor.isVisible() and window.input.panel_action.isChecked()
    assert window.input.width() > 100  # not squeezed to nothing by an old splitter state
    window.close()

    again = make_window()
    assert Ui(again).editor.isVisible()  # as the user left it
    again.input.panel_action.trigger()
    again.close()  # hidden when the window's layout is saved
    third = make_window()
    assert not third.input.isVisible()
    third.input.panel_action.trigger()
    assert third.input.isVisible() and third.input.width() > 100


def test_binary_file_is_refused_with_a_message(make_window: MakeWindow, tmp_path: Path, qtbot: QtBot) -> None:
    window = make_window()
    ui = Ui(window)
    ui.editor.setPlainText("keep me")
    path = tmp_path / "picture.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    window.input.open_file(path)
    qtbot.waitUntil(lambda: ui.message()[0] == "error", timeout=5000)
    assert "picture.png is not a text file" in ui.message()[1]
    assert ui.editor.toPlainText() == "keep me"


def test_actions_have_the_usual_shortcuts(make_window: MakeWindow) -> None:
    window = make_window()
    assert window.save_action.shortcut() == QKeySequence("Ctrl+S")
    assert window.copy_action.shortcut() == QKeySequence("Ctrl+C")
    assert window.select_all_action.shortcut() == QKeySequence("Ctrl+A")
    assert window.quit_action.shortcut() == QKeySequence("Ctrl+Q")
    assert window.refresh_action.isCheckable()
    assert not window.save_action.isEnabled()  # nothing selected yet
    assert set(window.language_actions) == {"en", "zh_CN"}


def test_select_all_selects_every_tile_and_enables_save(
    demo_window: Callable[..., DemoWindow], qtbot: QtBot
) -> None:
    window = demo_window(pictures=6).window
    ui = Ui(window)
    grid_of(window.browser).setFocus()
    window.select_all_action.trigger()
    qtbot.waitUntil(lambda: len(window.browser.selected_refs()) == 6, timeout=3000)
    qtbot.waitUntil(window.save_action.isEnabled, timeout=3000)
    assert ui.selection.text() == "Selected: 6"


def test_select_all_in_the_editor_selects_text(make_window: MakeWindow, qtbot: QtBot) -> None:
    window = make_window()
    ui = Ui(window)
    ui.editor.setPlainText("abc attachment")
    ui.show_pic_list()
    ui.editor.setFocus()
    qtbot.waitUntil(ui.editor.hasFocus, timeout=2000)
    window.select_all_action.trigger()
    assert ui.editor.textCursor().selectedText() == "abc attachment"


def test_refresh_toggle_reaches_the_browser_and_settings(
    make_window: MakeWindow, settings_path: Path
) -> None:
    window = make_window()
    window.refresh_action.setChecked(False)
    assert window.browser.refresh_enabled() is False
    assert window.settings.get(S.REFRESH) is False


def test_language_choice_is_remembered_for_the_next_start(
    make_window: MakeWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    told: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "information", staticmethod(lambda _p, _t, text, *a: told.append(text) or 0)
    )
    window = make_window(language="en")
    window.language_actions["zh_CN"].trigger()
    assert window.settings.get(S.LANGUAGE) == "zh_CN"
    assert told and "next time" in told[0]


def test_close_saves_settings_and_is_idempotent(
    demo_window: Callable[..., DemoWindow], settings_path: Path
) -> None:
    window = demo_window(pictures=6).window
    window.browser.set_tile_size(256)
    window.close()
    window.shutdown()  # again: nothing happens
    text = settings_path.read_text(encoding="utf-8")
    assert "tile_size=256" in text
    assert "geometry" in text
    assert "base_url" not in text  # the demo's loopback server is not remembered
    assert "demo-token" not in text


def test_begin_with_pics_file_loads_once_a_token_is_there(
    make_window: MakeWindow,
    standin_factory: Callable[..., StandinServer],
    small_dataset: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    """``--file-token T --pics FILE``: the file is read off-thread, the keyring is asked, then the user."""
    server = standin_factory(pictures=3, dataset=small_dataset)
    pics = tmp_path / "pics.tsv"
    pics.write_text("".join(f"{r.pic_key}\t{r.tag}\n" for r in server.pictures()), encoding="utf-8")
    typer = TokenTyper(monkeypatch, "demo-token", remember=False)
    window = make_window(base_url=server.base_url)
    ui = Ui(window)
    window.begin(file_token="demo-workbook", pics_file=str(pics))
    qtbot.waitUntil(lambda: window.browser.stats().pictures == 3, timeout=10_000)
    assert typer.calls == 1
    assert ui.file_token.text() == "demo-workbook"


def test_copy_image_is_delegated_to_the_grid(demo_window: Callable[..., DemoWindow], qtbot: QtBot) -> None:
    window = demo_window(pictures=6).window
    ui = Ui(window)
    grid = grid_of(window.browser)
    grid.setCurrentIndex(grid.model().index(0, 0))
    grid.setFocus()
    QGuiApplication.clipboard().clear()
    window.copy_action.trigger()
    qtbot.waitUntil(lambda: not QGuiApplication.clipboard().image().isNull(), timeout=5000)
    assert ui.editor.toPlainText()  # the editor's text was not touched by the shortcut


@pytest.mark.parametrize("call", ["find pictures", "list workbooks"])
def test_closing_the_window_does_not_wait_for_a_call_on_a_slow_line(
    demo_window: Callable[..., DemoWindow], qtbot: QtBot, call: str
) -> None:
    """Closing the window while "Find pictures" or a workbook listing waited on a slow line froze it until
    the API answered (up to 10 s each, then the call was left running anyway)."""
    from kdocs_viewer.gui.file_list import ListKind
    from kdocs_viewer.gui.retired import retired_count

    demo = demo_window(pictures=6)
    window = demo.window
    demo.server.set_latency_ms(3000)
    if call == "find pictures":
        window.input.find_pictures()
    else:
        window.opener.load(ListKind.SPREADSHEETS)
    qtbot.wait(200)  # the call is on the wire
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 1.5, "the close waited for the server's 3 s"
    qtbot.waitUntil(lambda: retired_count() == 0, timeout=10_000)  # the call ended on its own

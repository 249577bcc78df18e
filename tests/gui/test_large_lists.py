"""Big pic lists: a summary instead of the editor above SUMMARY_ABOVE_CHARS, and a question before a list
of more than CONFIRM_PICTURES_ABOVE pictures costs its API calls."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, Qt
from pytestqt.qtbot import QtBot

from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.piclist import CONFIRM_PICTURES_ABOVE, dump_pic_list
from kdocs_viewer.core.units import format_size
from kdocs_viewer.gui.main_window import MainWindow
from kdocs_viewer.gui.pic_input import SUMMARY_ABOVE_CHARS, LargeListQuestion
from kdocs_viewer.standin.server import StandinServer
from tests.gui.shell_helpers import TokenTyper, Ui

pytest_plugins = ["tests.gui.shell_support"]  # keyring fixtures come from the root conftest

MakeWindow = Callable[..., MainWindow]

BIG_PICTURES = 9_000  # under CONFIRM_PICTURES_ABOVE, yet over SUMMARY_ABOVE_CHARS with its context


def _big_json(count: int = BIG_PICTURES, bad_item: int | None = None) -> str:
    """A pic list in the dump shape, longer than SUMMARY_ABOVE_CHARS; ``bad_item`` (1-based) has no tag."""
    refs = [
        PicRef(f"key{i:07d}", "attachment", sheet="Sheet1", cell=f"Sheet1!B{i + 2}", caption=f"Row {i + 2}")
        for i in range(count)
    ]
    text = dump_pic_list(refs)
    if bad_item is not None:
        text = text.replace(
            f'"pic_key": "key{bad_item - 1:07d}", "tag": "attachment"', f'"pic_key": "key{bad_item - 1:07d}"'
        )
    assert len(text) > SUMMARY_ABOVE_CHARS
    return text


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Every parse_pic_list call: True when it ran on the GUI (main) thread."""
    import kdocs_viewer.core.piclist as piclist

    calls: list[bool] = []
    real = piclist.parse_pic_list

    def recording(text: str) -> object:
        calls.append(threading.current_thread() is threading.main_thread())
        return real(text)

    monkeypatch.setattr(piclist, "parse_pic_list", recording)
    return calls


@pytest.fixture
def server(standin_factory: Callable[..., StandinServer], small_dataset: Path) -> StandinServer:
    return standin_factory(pictures=4, dataset=small_dataset)


def test_a_big_file_is_summarised_and_load_uses_the_list_parsed_off_the_gui_thread(
    make_window: MakeWindow,
    server: StandinServer,
    parses: list[bool],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    text = _big_json()
    path = tmp_path / "pics.json"
    path.write_text(text, encoding="utf-8")
    TokenTyper(monkeypatch, "demo-token", remember=False)
    window = make_window(base_url=server.base_url)
    ui = Ui(window)
    ui.editor.setPlainText("typed_by_hand")
    ui.file_token.setText("demo-workbook")

    window.input.open_file(path)
    qtbot.waitUntil(lambda: ui.input_stack.currentWidget() is ui.summary, timeout=10_000)
    assert ui.summary.text() == f"pics.json — 9,000 pictures, {format_size(len(text.encode()))}"
    assert ui.summary.isVisible() and not ui.editor.isVisible()
    assert ui.editor.toPlainText() == "typed_by_hand"  # the big text never went into the editor
    assert parses == [False]
    assert ui.message() == ("info", "Read pics.json: 9,000 pictures. Click “Load” to show them.")

    assert window.input.load() is True
    assert window.browser.stats().pictures == BIG_PICTURES
    assert window.browser.all_refs()[0] == PicRef("key0000000", "attachment")
    assert parses == [False]  # Load used the parsed list: no second parse, none on the GUI thread

    ui.summary.clear_button.click()
    assert ui.input_stack.currentWidget() is ui.editor
    assert ui.editor.toPlainText() == "typed_by_hand"
    assert window.input.load() is False  # the big list is gone: Load reads the editor's text again
    assert ui.message()[0] == "error" and "line 1" in ui.message()[1]


def test_a_big_file_with_a_bad_item_is_named_and_nothing_changes(
    make_window: MakeWindow, parses: list[bool], tmp_path: Path, qtbot: QtBot
) -> None:
    path = tmp_path / "pics.json"
    path.write_text(_big_json(bad_item=4321), encoding="utf-8")
    window = make_window()
    ui = Ui(window)
    ui.editor.setPlainText("typed_by_hand")
    window.input.open_file(path, load=True)
    qtbot.waitUntil(lambda: ui.message()[0] == "error", timeout=10_000)
    text = ui.message()[1]
    assert text.startswith("pics.json has a problem:\nitem 4321: missing tag")
    assert ui.input_stack.currentWidget() is ui.editor
    assert ui.editor.toPlainText() == "typed_by_hand"
    assert ui.pictures.currentWidget() is ui.placeholder
    assert parses == [False]


def test_a_big_paste_is_summarised_and_a_small_one_is_typed_in(
    make_window: MakeWindow, parses: list[bool], qtbot: QtBot
) -> None:
    window = make_window()
    ui = Ui(window)
    small = QMimeData()
    small.setText("abc123 attachment\n")
    ui.editor.insertFromMimeData(small)
    assert ui.editor.toPlainText() == "abc123 attachment\n"

    text = _big_json()
    big = QMimeData()
    big.setText(text)
    ui.editor.insertFromMimeData(big)
    qtbot.waitUntil(lambda: ui.input_stack.currentWidget() is ui.summary, timeout=10_000)
    assert ui.summary.text() == f"Pasted pic list — 9,000 pictures, {format_size(len(text.encode()))}"
    assert ui.editor.toPlainText() == "abc123 attachment\n"
    assert parses == [False]


def _text_list(count: int) -> str:
    return "".join(f"key{i:07d} attachment\n" for i in range(count))


@pytest.mark.parametrize("answer", ["enter", "load"])
def test_a_list_above_the_limit_asks_first_and_cancel_is_the_default(
    answer: str,
    make_window: MakeWindow,
    server: StandinServer,
    settings_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    from kdocs_viewer.gui.settings import AppSettings

    if answer == "enter":  # and the server's daily limit is known from an earlier run
        settings = AppSettings()
        settings.record_daily_limit(server.base_url, 500)
        settings.sync()
    TokenTyper(monkeypatch, "demo-token", remember=False)
    window = make_window(base_url=server.base_url)
    ui = Ui(window)
    ui.file_token.setText("demo-workbook")
    ui.editor.setPlainText(_text_list(CONFIRM_PICTURES_ABOVE + 1))
    assert window.input.load() is True

    def asked() -> None:
        assert ui.question() is not None

    qtbot.waitUntil(asked, timeout=10_000)
    box = ui.question()
    assert box is not None
    assert box.text() == "This list has 10,001 pictures. Getting their links takes about 101 API calls."
    if answer == "enter":
        assert box.informativeText() == "The server allows 500 API calls a day."
    else:
        assert box.informativeText() == "A KDocs test app may make 10,000 API calls a day."
    assert box.defaultButton() is box.cancel_button and box.escapeButton() is box.cancel_button
    assert server.api_calls_today() == 0  # nothing is asked of the server before the answer

    if answer == "enter":
        qtbot.keyClick(box, Qt.Key.Key_Return)  # the default answer
        qtbot.waitUntil(lambda: ui.question() is None, timeout=5000)
        assert ui.message() == ("info", "Not loaded. The list is kept; press Load to be asked again.")
        assert ui.pictures.currentWidget() is ui.placeholder
        assert window.browser.session() is None
        assert server.api_calls_today() == 0
        assert ui.editor.toPlainText() == _text_list(CONFIRM_PICTURES_ABOVE + 1)
    else:
        box.load_button.click()
        qtbot.waitUntil(lambda: window.browser.stats().pictures == CONFIRM_PICTURES_ABOVE + 1, timeout=10_000)
        assert ui.message()[1].startswith("Loaded 10001 pictures.")
        qtbot.waitUntil(lambda: server.api_calls_today() > 0, timeout=10_000)


def test_exactly_the_limit_loads_without_a_question(
    make_window: MakeWindow,
    server: StandinServer,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    TokenTyper(monkeypatch, "demo-token", remember=False)
    window = make_window(base_url=server.base_url)
    ui = Ui(window)
    ui.file_token.setText("demo-workbook")
    ui.editor.setPlainText(_text_list(CONFIRM_PICTURES_ABOVE))
    assert window.input.load() is True
    qtbot.waitUntil(lambda: window.browser.stats().pictures == CONFIRM_PICTURES_ABOVE, timeout=10_000)
    assert window.findChild(LargeListQuestion) is None  # never asked

"""The status bar's API-call counter: one count per server and quota day, a limit only when it is known."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from kdocs_viewer.gui.main_window import MainWindow
from kdocs_viewer.standin.server import StandinServer
from tests.gui.shell_helpers import TokenTyper, Ui

pytest_plugins = ["tests.gui.shell_support"]  # keyring fixtures come from the root conftest

MakeWindow = Callable[..., MainWindow]


def _find_and_wait(window: MainWindow, qtbot: QtBot, pictures: int) -> None:
    ui = Ui(window)
    ui.file_token.setText("demo-workbook")
    ui.find_button.click()
    qtbot.waitUntil(lambda: window.browser.stats().pictures == pictures, timeout=10_000)
    qtbot.waitUntil(lambda: window.browser.stats().loaded == pictures, timeout=10_000)


def _label_is(window: MainWindow, qtbot: QtBot, text: str) -> None:
    label = Ui(window).api_calls

    def check() -> None:  # the status bar follows the browser's (throttled) status signal
        assert label.text() == text

    qtbot.waitUntil(check, timeout=5000)


def test_two_servers_count_separately_and_across_runs(
    make_window: MakeWindow,
    standin_factory: Callable[..., StandinServer],
    small_dataset: Path,
    settings_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    first, second = (standin_factory(pictures=4, dataset=small_dataset) for _ in range(2))
    TokenTyper(monkeypatch, "demo-token", remember=False)

    on_first = make_window(base_url=first.base_url)
    first_ui = Ui(on_first)
    assert first_ui.api_calls.text() == "API calls today: 0"
    _find_and_wait(on_first, qtbot, 4)
    calls_first = first.api_calls_today()
    assert calls_first >= 3  # sheets, cells, picture URLs
    _label_is(on_first, qtbot, f"API calls today: {calls_first}")
    on_first.close()

    on_second = make_window(base_url=second.base_url)
    second_ui = Ui(on_second)
    assert second_ui.api_calls.text() == "API calls today: 0"  # another server, another count
    _find_and_wait(on_second, qtbot, 4)
    assert on_second.input.load() is True  # once more: one more call, so the two counts differ
    qtbot.waitUntil(lambda: second.api_calls_today() == calls_first + 1, timeout=10_000)
    calls_second = second.api_calls_today()
    _label_is(on_second, qtbot, f"API calls today: {calls_second}")
    on_second.close()

    again = make_window(base_url=first.base_url + "/")  # the same server, however it is spelt
    again_ui = Ui(again)
    assert again_ui.api_calls.text() == f"API calls today: {calls_first}"

    text = settings_path.read_text(encoding="utf-8")
    keys = [line.split("=", 1)[0] for line in text.splitlines() if "=" in line]
    assert f"calls={calls_first}" in text and f"calls={calls_second}" in text
    assert not [key for key in keys if "127.0.0.1" in key or "http" in key]  # keys are hashes, not URLs
    assert "demo-token" not in text


def test_a_quota_answer_makes_the_limit_known_and_it_is_remembered(
    make_window: MakeWindow,
    standin_factory: Callable[..., StandinServer],
    small_dataset: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    server = standin_factory(pictures=4, dataset=small_dataset, quota=1)
    TokenTyper(monkeypatch, "demo-token", remember=False)
    window = make_window(base_url=server.base_url)
    ui = Ui(window)
    assert ui.api_calls.text() == "API calls today: 0"  # nothing known of a limit yet
    ui.file_token.setText("demo-workbook")
    ui.find_button.click()  # the sheets call is allowed, the cells call is refused
    qtbot.waitUntil(lambda: ui.message()[0] == "error", timeout=10_000)
    assert "quota" in ui.message()[1]
    assert server.api_calls_today() == 1
    # Two calls were sent; the refused one is not charged, and the server said its limit is 1.
    _label_is(window, qtbot, "API calls today: 1 / 1")
    assert ui.api_calls.toolTip() == "The server allows 1 API calls a day."
    window.close()

    again = make_window(base_url=server.base_url)
    again_ui = Ui(again)
    assert again_ui.api_calls.text() == "API calls today: 1 / 1"  # limit and count kept for this server


def test_a_limit_in_the_settings_file_is_shown(
    make_window: MakeWindow, settings_path: Path, standin: StandinServer
) -> None:
    from kdocs_viewer.gui.settings import AppSettings

    settings_path.parent.mkdir(parents=True, exist_ok=True)
    old_shared_counter = "[quota]\nday=2020-01-01\ncalls=9999\n"
    settings_path.write_text(old_shared_counter, encoding="utf-8")
    settings = AppSettings()
    settings.record_daily_limit(standin.base_url, 10_000)
    settings.sync()
    window = make_window(base_url=standin.base_url)
    ui = Ui(window)
    assert ui.api_calls.text() == "API calls today: 0 / 10,000"
    assert "calls=9999" not in settings_path.read_text(encoding="utf-8")  # retired, not carried over

"""The token's life cycle in the window: 20007 prompts, keyring states (absent, hanging, real), the canary."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QAbstractButton, QDialog, QLabel, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from kdocs_viewer.core.redact import install_log_redaction
from kdocs_viewer.core.secrets import TokenStatus, TokenStore
from kdocs_viewer.gui.keyring_bridge import KeyringBridge
from kdocs_viewer.gui.main_window import MainWindow
from kdocs_viewer.gui.token_controller import TokenSource
from kdocs_viewer.gui.token_dialog import TokenDialog
from kdocs_viewer.standin.server import StandinServer
from tests.conftest import CANARY_TOKEN
from tests.gui.shell_helpers import DemoWindow, FolderChooser, TokenTyper, Ui, child
from tests.helpers.logfail import ExpectLog

pytest_plugins = ["tests.gui.shell_support"]  # keyring fixtures come from the root conftest

MakeWindow = Callable[..., MainWindow]


def test_rejected_token_prompts_once_and_keeps_list_and_selection(
    make_window: MakeWindow,
    standin_factory: Callable[..., StandinServer],
    small_dataset: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    """A pasted token that stops working: the token dialog again (not the sign-in), once."""
    # URLs live 3-6 s here, so the browser refreshes the needed ones within a couple of seconds.
    server = standin_factory(pictures=6, dataset=small_dataset, time_scale=0.01)
    typer = TokenTyper(monkeypatch, "demo-token", "fresh-token", remember=False)
    window = make_window(base_url=server.base_url)
    browser, ui = window.browser, Ui(window)
    ui.file_token.setText("demo-workbook")
    ui.find_button.click()
    qtbot.waitUntil(lambda: browser.stats().loaded == 6, timeout=15_000)
    assert typer.calls == 1 and typer.sign_in_prompts == 1  # no token yet: the sign-in dialog came first
    refs_before = [r.ident for r in browser.all_refs()]
    browser.select_refs(refs_before[1:4])
    qtbot.waitUntil(lambda: len(browser.selected_refs()) == 3, timeout=3000)
    server.set_token("fresh-token")  # the pasted token is now "expired"

    qtbot.waitUntil(lambda: typer.calls == 2, timeout=15_000)
    assert "20007" in typer.reasons[1]
    assert typer.sign_in_prompts == 1  # a pasted token is asked for again as a token
    calls_after_prompt = server.api_calls_today()
    qtbot.waitUntil(lambda: server.api_calls_today() > calls_after_prompt, timeout=15_000)
    qtbot.wait(300)
    assert typer.calls == 2
    assert [r.ident for r in browser.all_refs()] == refs_before
    assert [r.ident for r in browser.selected_refs()] == refs_before[1:4]
    assert window.token.source() is TokenSource.SESSION


def test_many_rejections_open_one_dialog(
    make_window: MakeWindow, monkeypatch: pytest.MonkeyPatch, qtbot: QtBot
) -> None:
    typer = TokenTyper(monkeypatch, accept=False)
    window = make_window()
    ui = Ui(window)
    for _ in range(5):
        window.browser.tokenRejected.emit()
    qtbot.wait(100)
    assert typer.calls == 1
    assert ui.message()[0] == "warning"
    assert "paused" in ui.message()[1]


def test_find_with_a_rejected_token_asks_again_and_retries(
    make_window: MakeWindow,
    standin_factory: Callable[..., StandinServer],
    small_dataset: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    server = standin_factory(pictures=4, dataset=small_dataset, token="right-token")
    typer = TokenTyper(monkeypatch, "wrong-token", "right-token", remember=False)
    window = make_window(base_url=server.base_url)
    ui = Ui(window)
    ui.file_token.setText("demo-workbook")
    ui.find_button.click()
    qtbot.waitUntil(lambda: window.browser.stats().pictures == 4, timeout=10_000)
    assert typer.calls == 2
    assert "20007" in typer.reasons[1]


def test_find_after_a_refused_new_token_waits_for_the_next_token(
    make_window: MakeWindow,
    standin_factory: Callable[..., StandinServer],
    small_dataset: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    """Find shares the browser's rejection path: Cancel leaves it paused, the next token resumes it."""
    server = standin_factory(pictures=4, dataset=small_dataset, token="right-token")
    window = make_window(base_url=server.base_url)
    ui = Ui(window)
    TokenTyper(monkeypatch, "wrong-token", remember=False)
    assert window.token.ask() is True
    refused = TokenTyper(monkeypatch, accept=False)
    ui.file_token.setText("demo-workbook")
    ui.find_button.click()
    qtbot.waitUntil(lambda: refused.calls == 1, timeout=10_000)
    assert "20007" in refused.reasons[0]
    assert ui.message()[0] == "warning" and "paused" in ui.message()[1]
    assert window.browser.stats().pictures == 0
    TokenTyper(monkeypatch, "right-token", remember=False)
    window.token_action.trigger()  # File → Set access token…
    qtbot.waitUntil(lambda: window.browser.stats().pictures == 4, timeout=10_000)


def test_no_keyring_leaves_a_usable_window(
    make_window: MakeWindow, monkeypatch: pytest.MonkeyPatch, qtbot: QtBot, no_keyring: Any
) -> None:
    window = make_window()
    ui = Ui(window)
    window.begin()
    qtbot.waitUntil(lambda: window.token.source() is TokenSource.NONE, timeout=5000)
    assert ui.token_status.text() == "Token: none"
    kind, text = ui.message()
    assert kind == "warning" and "Keyring unavailable" in text
    typer = TokenTyper(monkeypatch, "session-token")
    assert window.token.ask() is True
    assert typer.remember_enabled == [False]
    assert ui.token_status.text() == "Token: this session only"
    ui.editor.setPlainText("bad_line_only")  # a pic_key without its tag
    ui.file_token.setText("x")
    assert window.input.load() is False  # still a working window


def test_hanging_keyring_leaves_a_usable_window(
    make_window: MakeWindow,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    hanging_keyring: Any,
    expect_log: ExpectLog,
) -> None:
    started = time.monotonic()
    window = make_window(token_store=TokenStore(timeout=0.5))
    ui = Ui(window)
    window.begin()
    assert time.monotonic() - started < 5  # shown without waiting for the keyring
    assert hanging_keyring.entered.wait(5)
    assert ui.token_status.text() == "Token: checking keyring…"
    ui.editor.setPlainText("abc123")
    ui.file_token.setText("demo-workbook")
    assert window.input.load() is False  # the GUI answers while the keyring hangs
    assert "line 1" in ui.message()[1]
    with expect_log("kdocs_viewer.core.secrets", logging.WARNING, match="did not answer within 0.5 s"):
        qtbot.waitUntil(lambda: window.token.source() is TokenSource.NONE, timeout=5000)
    assert "Keyring unavailable" in ui.message()[1]
    TokenTyper(monkeypatch, "session-token")
    assert window.token.ask() is True
    assert window.token.source() is TokenSource.SESSION


def test_load_waits_for_the_keyring_lookup_then_asks(
    make_window: MakeWindow,
    standin_factory: Callable[..., StandinServer],
    small_dataset: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    hanging_keyring: Any,
    expect_log: ExpectLog,
) -> None:
    server = standin_factory(pictures=3, dataset=small_dataset)
    typer = TokenTyper(monkeypatch, "demo-token")
    window = make_window(base_url=server.base_url, token_store=TokenStore(timeout=0.5))
    ui = Ui(window)
    window.begin(file_token="demo-workbook")
    ui.editor.setPlainText("\n".join(f"{r.pic_key} {r.tag}" for r in server.pictures()))
    assert window.input.load() is False
    assert typer.calls == 0 and "Looking for a stored access token" in ui.message()[1]
    with expect_log("kdocs_viewer.core.secrets", logging.WARNING, match="did not answer within 0.5 s"):
        qtbot.waitUntil(lambda: window.browser.stats().pictures == 3, timeout=5000)
    assert typer.calls == 1


def _visible_texts(window: MainWindow) -> list[str]:
    texts = [window.windowTitle(), window.toolTip(), window.statusBar().currentMessage()]
    for widget in window.findChildren(QWidget):
        texts += [widget.windowTitle(), widget.toolTip(), widget.statusTip(), widget.accessibleName()]
        if isinstance(widget, QLabel | QAbstractButton):
            texts.append(widget.text())
        if isinstance(widget, QLineEdit):
            texts.append(widget.text())
    return texts


def test_canary_token_never_reaches_settings_titles_or_logs(
    make_window: MakeWindow,
    standin_factory: Callable[..., StandinServer],
    small_dataset: Path,
    settings_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    qtbot: QtBot,
    caplog: pytest.LogCaptureFixture,
    no_keyring: Any,
) -> None:
    install_log_redaction()  # as the app does first thing
    caplog.set_level(logging.DEBUG)
    server = standin_factory(pictures=4, dataset=small_dataset, token=CANARY_TOKEN)
    TokenTyper(monkeypatch, CANARY_TOKEN, remember=True)
    out = tmp_path / "saved"
    FolderChooser(monkeypatch, out)
    window = make_window(base_url=server.base_url)
    ui = Ui(window)
    window.begin(file_token="demo-workbook")
    # Nothing stored: the first-run sign-in dialog opens, and this user pastes the token instead.
    qtbot.waitUntil(lambda: window.token.source() is TokenSource.SESSION, timeout=5000)
    ui.find_button.click()
    qtbot.waitUntil(lambda: window.browser.stats().loaded == 4, timeout=10_000)
    window.browser.select_refs(r.ident for r in window.browser.all_refs())
    qtbot.waitUntil(window.save_action.isEnabled, timeout=3000)
    with qtbot.waitSignal(window.saver.saveFinished, timeout=10_000):
        window.save_action.trigger()
    assert all(CANARY_TOKEN not in text for text in _visible_texts(window))
    window.close()

    assert settings_path.exists()
    assert CANARY_TOKEN not in settings_path.read_text(encoding="utf-8")
    assert CANARY_TOKEN.encode() not in settings_path.read_bytes()
    assert CANARY_TOKEN not in caplog.text
    assert len(list(out.iterdir())) == 4
    assert all(CANARY_TOKEN not in p.name for p in out.iterdir())


@pytest.mark.keyring_service
def test_real_keyring_remembers_and_forgets(
    make_window: MakeWindow, monkeypatch: pytest.MonkeyPatch, qtbot: QtBot, secret_service: Any
) -> None:
    base = "https://kdocs.example.test"
    first = make_window(base_url=base, token_store=TokenStore(timeout=10))
    first_ui = Ui(first)
    first.begin()
    qtbot.waitUntil(lambda: first.token.source() is TokenSource.NONE, timeout=10_000)
    TokenTyper(monkeypatch, "kept-token", remember=True)
    assert first.token.ask() is True
    qtbot.waitUntil(lambda: first.token.source() is TokenSource.KEYRING, timeout=10_000)
    assert first_ui.token_status.text() == "Token: stored in keyring (Secret Service)"
    first.close()

    second = make_window(base_url=base, token_store=TokenStore(timeout=10))
    second.begin()
    qtbot.waitUntil(lambda: second.token.source() is TokenSource.KEYRING, timeout=10_000)
    assert second.token.has_token()
    TokenTyper(monkeypatch, None)  # clicks Forget
    second.token.ask()
    assert second.token.source() is TokenSource.NONE
    bridge = child(second, KeyringBridge)
    qtbot.waitUntil(lambda: bridge.pending() == 0, timeout=10_000)
    assert TokenStore(timeout=10).get(base).status is TokenStatus.NOT_STORED


def test_dialog_never_shows_the_token_and_clears_it(qtbot: QtBot) -> None:
    dialog = TokenDialog(base_url="https://x.example", backend="Secret Service", has_token=True)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert ok is not None and not ok.isEnabled()
    dialog.token_edit.setText("  secret-value  ")
    assert ok.isEnabled()
    assert dialog.token_edit.echoMode() is QLineEdit.EchoMode.Password
    dialog.show_check.setChecked(True)
    assert dialog.token_edit.echoMode() is QLineEdit.EchoMode.Normal
    choice = dialog.choice_for(1)
    assert choice is not None and choice.token == "secret-value" and choice.remember
    assert "secret-value" not in repr(choice)
    assert dialog.forget_button.isEnabled()
    unusable = TokenDialog(keyring_usable=False)
    qtbot.addWidget(unusable)
    assert not unusable.remember_check.isEnabled()
    assert "session only" in unusable.remember_check.text()


def test_demo_token_dialog_does_not_wait_for_a_keyring_lookup_that_never_runs(
    demo_window: Callable[..., DemoWindow], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo never asks the keyring, so the dialog must not say "checking…" for ever."""
    window = demo_window(pictures=3).window
    shown: list[str] = []

    def fake_exec(dialog: TokenDialog) -> int:
        shown.append(dialog.backend_label.text())
        return QDialog.DialogCode.Rejected.value

    monkeypatch.setattr(TokenDialog, "exec", fake_exec)
    window.token.ask()
    assert shown == ["not used by the demo server"]


def test_token_dialog_says_checking_only_while_a_lookup_runs(qtbot: QtBot) -> None:
    checking = TokenDialog(checking=True)
    idle = TokenDialog(checking=False)
    for dialog in (checking, idle):
        qtbot.addWidget(dialog)
    assert checking.backend_label.text() == "checking…"
    assert idle.backend_label.text() == "not checked yet"


URL = "https://api.example.invalid"


def test_closing_does_not_wait_for_a_keyring_read(qtbot: QtBot, hanging_keyring: Any) -> None:
    """A keyring that does not answer (a locked one's unlock prompt) held the window's close for the store's
    whole timeout: the bridge joined its read."""
    from kdocs_viewer.gui.retired import retired_count

    bridge = KeyringBridge(TokenStore(timeout=3.0))
    bridge.get(URL)
    assert hanging_keyring.entered.wait(5)
    started = time.monotonic()
    assert bridge.shutdown() is True  # no write to wait for
    assert time.monotonic() - started < 1.5, "the close waited for the read's 3 s"
    assert bridge.shutdown() is True  # again: idempotent, its relay kept once
    assert retired_count() == 1
    hanging_keyring.release.set()  # the keyring answers at last; nobody listens
    qtbot.waitUntil(lambda: retired_count() == 0, timeout=5000)


def test_closing_still_waits_for_a_token_being_stored(hanging_keyring: Any, expect_log: ExpectLog) -> None:
    """A token must reach the keyring: a write running at the close is waited for (up to the store's own
    timeout, here 0.5 s)."""
    bridge = KeyringBridge(TokenStore(timeout=0.5))
    with expect_log("kdocs_viewer.core.secrets", logging.WARNING, match="did not answer within 0.5 s"):
        bridge.set(URL, "a-token-being-stored")
        assert hanging_keyring.entered.wait(5)
        started = time.monotonic()
        written = bridge.shutdown()
        waited = time.monotonic() - started
    assert written is True
    assert waited >= 0.3  # until the store gave the write up, not at once

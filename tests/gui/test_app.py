"""App start-up: the command line, the --demo path, the crash hook, the whole main() on the stand-in."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from kdocs_viewer import __version__, app
from kdocs_viewer.gui.main_window import MainWindow
from kdocs_viewer.gui.token_controller import TokenSource
from tests.gui.browser_helpers import grid_of
from tests.gui.shell_helpers import DemoWindow
from tests.helpers.logfail import ExpectLog

pytest_plugins = ["tests.gui.shell_support"]  # keyring fixtures come from the root conftest

SECRET = "tok-SECRET-1234"


def _cli() -> list[str]:
    script = Path(sys.executable).parent / "kdocs-viewer"
    return [str(script)] if script.exists() else [sys.executable, "-m", "kdocs_viewer"]


def test_help_runs_as_a_subprocess() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run([*_cli(), "--help"], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    for flag in ("--demo", "--base-url", "--file-token", "--pics", "--lang", "--version"):
        assert flag in done.stdout


def test_module_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kdocs_viewer", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"kdocs-viewer {__version__}"


def test_bad_language_is_refused() -> None:
    with pytest.raises(SystemExit):
        app.build_parser().parse_args(["--lang", "fr"])


def _viewport_colours(window: MainWindow) -> int:
    image: QImage = grid_of(window.browser).viewport().grab().toImage()
    colours = set()
    for y in range(0, image.height(), 7):
        for x in range(0, image.width(), 7):
            colours.add(image.pixel(x, y))
    return len(colours)


def test_demo_path_loads_and_paints(
    demo_window: Callable[..., DemoWindow], hanging_keyring: Any, qtbot: QtBot
) -> None:
    demo = demo_window(pictures=6)
    window, ui = demo.window, demo.ui
    assert window.token.is_demo()
    # Signed in the real way: the consent page, the redirect to our listener, the code exchange.
    assert window.token.source() is TokenSource.SIGNED_IN
    seen = [(e.method, e.path, e.status) for e in demo.server.request_log()]
    assert ("GET", "/h5/auth", 302) in seen
    assert ("GET", "/api/v1/oauth2/access_token", 200) in seen
    assert "demo" in ui.token_status.text()
    qtbot.waitUntil(lambda: window.signin.user_name() != "", timeout=5000)
    assert ui.account.text() == f"Signed in as {window.signin.user_name()}"
    assert ui.file_token.text() == "demo-workbook"
    assert [r.ident for r in window.browser.all_refs()] == [r.ident for r in demo.server.pictures()]
    qtbot.waitUntil(lambda: window.browser.stats().loaded == 6, timeout=10_000)
    assert _viewport_colours(window) > 20  # real thumbnails, not a blank grid
    assert "API calls today:" in ui.api_calls.text()
    assert hanging_keyring.calls == 0  # the demo sign-in never goes near the keyring


def test_user_error_text_is_short_and_redacted() -> None:
    exc = RuntimeError(f"GET https://api.example/x?access_token={SECRET}&sig=abc failed\n  with details")
    text = app.user_error_text(exc)
    assert SECRET not in text and "sig=abc" not in text
    assert text.startswith("RuntimeError: GET https://api.example/x?")
    assert "\n" not in text
    assert len(app.user_error_text(RuntimeError("x" * 5000))) <= 300


def test_excepthook_logs_redacted_and_shows_short_dialog(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, expect_log: ExpectLog
) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    shown: list[str] = []

    def fake_critical(parent: object, title: str, text: str, *args: object) -> int:
        shown.append(f"{title}\n{text}")
        return 0

    monkeypatch.setattr(QMessageBox, "critical", staticmethod(fake_critical))
    app.install_excepthook()
    try:
        raise ValueError(f"https://h.example/img?Sig=zzz&access_token={SECRET}")
    except ValueError as exc:
        with (
            caplog.at_level(logging.CRITICAL),
            expect_log("kdocs_viewer", logging.CRITICAL, match="^unhandled exception$"),
        ):
            sys.excepthook(type(exc), exc, exc.__traceback__)
    assert len(shown) == 1
    assert SECRET not in shown[0] and "Sig=zzz" not in shown[0]
    assert "Traceback" not in shown[0]
    logged = caplog.text
    assert "unhandled exception" in logged and "ValueError" in logged
    assert SECRET not in logged and "Sig=zzz" not in logged


_MAIN_DEMO_SCRIPT = r"""
import sys

import kdocs_viewer.standin.config as standin_config
from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication, QToolButton
from kdocs_viewer import app
from kdocs_viewer.gui.main_window import MainWindow

real = standin_config.StandinConfig
standin_config.StandinConfig = lambda **kw: real(**{"pictures": 6, "dataset": sys.argv[1], **kw})


class Closer(QObject):
    def __init__(self):
        super().__init__()
        self.ticks = 0
        self.timer = QTimer(self)
        self.timer.setInterval(50)
        self.timer.timeout.connect(self.check)

    @Slot()
    def check(self):
        self.ticks += 1
        for window in QApplication.topLevelWidgets():
            if isinstance(window, MainWindow) and window.isVisible():
                stats = window.browser.stats()
                if (stats.pictures and stats.loaded >= stats.pictures) or self.ticks > 400:
                    token = window.findChild(QToolButton, "tokenStatus").text()
                    print("LOADED", stats.loaded, token, flush=True)
                    window.close()


closer = Closer()
QTimer.singleShot(0, closer.timer.start)
sys.exit(app.main(["--demo", "--lang", "en"]))
"""


def test_main_demo_runs_until_the_window_closes(tmp_path: Path, small_dataset: Path) -> None:
    """The real ``main(["--demo"])`` in a child process (an event loop of its own): the stand-in starts in
    that process, the pictures show, closing the window ends the program cleanly, nothing secret is kept."""
    script = tmp_path / "run_demo.py"
    script.write_text(_MAIN_DEMO_SCRIPT, encoding="utf-8")
    settings = tmp_path / "settings.ini"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(QT_QPA_PLATFORM="offscreen", KDOCS_VIEWER_SETTINGS=str(settings))
    done = subprocess.run(
        [sys.executable, str(script), str(small_dataset)],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "LOADED 6 Token: demo, this session only" in done.stdout
    text = settings.read_text(encoding="utf-8")
    assert "demo-token" not in text
    assert "language=en" in text
    assert "Traceback" not in done.stderr

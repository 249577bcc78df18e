"""Fixtures for the application-shell tests (main window, dialogs, app start-up).

Load with ``pytest_plugins = ["tests.gui.shell_support"]``; plain helpers (no
fixtures) live in ``tests/gui/shell_helpers.py`` and are imported normally.

- ``settings_path`` — an INI file in ``tmp_path``; ``KDOCS_VIEWER_SETTINGS`` points at it, so nothing of the
  user's own settings is read or written.
- ``small_dataset`` — a handful of tiny real pictures for the stand-in (its generated demo pictures take
  ~0.2 s each to make, too slow for a suite).
- ``make_window`` — a shown ``MainWindow`` with private settings; at teardown it is closed and the test
  fails if any worker the window owns is still running or a new Python thread outlived it.
- ``demo_window`` — a window running the ``--demo`` path (``DemoLauncher``) on a small workbook, loaded.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from kdocs_viewer.app import DemoLauncher
from kdocs_viewer.core.secrets import TokenStore
from kdocs_viewer.gui.main_window import MainWindow
from kdocs_viewer.gui.settings import SETTINGS_ENV, AppSettings
from kdocs_viewer.gui.tasks import BackgroundCalls
from kdocs_viewer.standin.config import StandinConfig
from tests.gui.browser_helpers import write_colour_pictures
from tests.gui.shell_helpers import DemoWindow

__all__ = ["demo_window", "make_window", "settings_path", "small_dataset"]


@pytest.fixture
def settings_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config" / "kdocs-viewer.ini"
    monkeypatch.setenv(SETTINGS_ENV, str(path))
    return path


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_colour_pictures(tmp_path_factory.mktemp("shell-pictures"), (120, 90), 16)


def _python_threads() -> set[threading.Thread]:
    return {
        t
        for t in threading.enumerate()
        if t.is_alive() and not isinstance(t, threading._DummyThread)  # Qt's pool threads show up as dummies
    }


def _is_foreign(thread: threading.Thread) -> bool:
    """Threads owned by other fixtures (stand-in server, keyring workers), which join them themselves."""
    return thread.name.startswith(("standin", "kdocs-keyring"))


def _stacks(threads: list[threading.Thread]) -> str:
    """Each thread's name and where it is now: a leftover is found by its stack, not its name."""
    frames = sys._current_frames()
    shown = []
    for thread in threads:
        frame = frames.get(thread.ident) if thread.ident is not None else None
        stack = "".join(traceback.format_stack(frame)) if frame is not None else "(ended)\n"
        shown.append(f"\n--- {thread.name}\n{stack}")
    return "".join(shown)


def assert_no_leftovers(window: MainWindow, before: set[threading.Thread]) -> None:
    """Everything the window started has ended within 5 s of its close (a call still on the wire at the close
    is not waited for by the window, only here)."""
    calls = window.findChildren(BackgroundCalls)
    assert calls, "the window has no background calls to check"
    assert not window.saver.is_running(), "a save outlived the window"
    deadline = time.monotonic() + 5.0
    while True:
        running = sum(c.active() for c in calls)
        extra = [t for t in _python_threads() - before if not _is_foreign(t)]
        if (not extra and not running) or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not running, f"{running} background calls outlived the window by 5 s"
    assert not extra, f"threads outlived the window: {_stacks(extra)}"


MakeWindow = Callable[..., MainWindow]


@pytest.fixture
def make_window(qtbot: QtBot, settings_path: Path) -> Iterator[MakeWindow]:
    """``make_window(base_url=..., token_store=..., language=...)`` → a shown MainWindow."""
    made: list[tuple[MainWindow, set[threading.Thread]]] = []

    def make(**kwargs: Any) -> MainWindow:
        before = _python_threads()
        kwargs.setdefault(
            "app_settings", AppSettings(QSettings(str(settings_path), QSettings.Format.IniFormat))
        )
        kwargs.setdefault("token_store", TokenStore(timeout=1.0))
        window = MainWindow(**kwargs)
        qtbot.addWidget(window)
        window.resize(1000, 700)
        window.show()
        qtbot.waitExposed(window)
        made.append((window, before))
        return window

    yield make
    for window, before in made:
        window.close()
        assert_no_leftovers(window, before)


@pytest.fixture
def demo_window(
    qtbot: QtBot, make_window: MakeWindow, small_dataset: Path
) -> Iterator[Callable[..., DemoWindow]]:
    """``demo_window(pictures=6, **config)`` → a window on the ``--demo`` path with everything loaded."""
    launchers: list[DemoLauncher] = []

    def make(*, wait_loaded: bool = True, **config: Any) -> DemoWindow:
        config.setdefault("pictures", 6)
        config.setdefault("dataset", small_dataset)
        window = make_window()
        launcher = DemoLauncher(window, StandinConfig(**config))
        launchers.append(launcher)
        launcher.start()
        assert launcher.server is not None
        if wait_loaded:
            total = len(launcher.server.pictures())

            def loaded() -> None:
                stats = window.browser.stats()
                assert stats.pictures == total
                assert stats.loaded + stats.failed >= min(total, 4)

            qtbot.waitUntil(loaded, timeout=15_000)
        return DemoWindow(window, launcher)

    yield make
    for launcher in launchers:
        launcher.window.close()  # the window goes first: its workers talk to the server
        launcher.stop()

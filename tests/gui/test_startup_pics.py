"""``kdocs-viewer --pics FILE`` with a file that cannot be used: a clear error at start-up, naming the file
and what is wrong — the very message File → Open (and Load) gives for it — which the keyring's answer,
arriving later, does not hide."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from kdocs_viewer.core.piclist import MAX_PIC_LIST_BYTES
from kdocs_viewer.core.secrets import TokenStore
from kdocs_viewer.gui.main_window import MainWindow
from kdocs_viewer.gui.token_controller import TokenSource
from tests.gui.shell_helpers import Ui
from tests.helpers.logfail import ExpectLog

pytest_plugins = ["tests.gui.shell_support"]  # keyring fixtures come from the root conftest

MakeWindow = Callable[..., MainWindow]


def _garbage(path: Path) -> Path:
    path.write_bytes(bytes(range(256)) * 8)  # NUL bytes and all: not text
    return path


def _unreadable(path: Path) -> Path:
    path.mkdir()  # a folder: open() fails whoever runs the test (root reads chmod-000 files)
    return path


def _too_big(path: Path) -> Path:
    with path.open("wb") as handle:
        handle.truncate(MAX_PIC_LIST_BYTES + 1)  # sparse: no 20 MB written
    return path


def _not_decodable(path: Path) -> Path:
    path.write_bytes(b"abc attachment\n\x80\x80\x80 local\n")  # neither UTF-8 nor GB18030
    return path


def _unparsable(path: Path) -> Path:
    path.write_text("abc123 attachment\nlonely\n", encoding="utf-8")
    return path


CASES: dict[str, tuple[Callable[[Path], Path], str, str]] = {
    # name: (make the file, its name, what the message must say)
    "binary": (_garbage, "garbage.bin", "garbage.bin is not a text file."),
    "unreadable": (_unreadable, "folder.json", "Could not read folder.json: Is a directory"),
    "missing": (lambda p: p, "missing.json", "Could not read missing.json: No such file or directory"),
    "too big": (_too_big, "huge.txt", "huge.txt is larger than 20 MB: that is not a pic list."),
    "encoding": (_not_decodable, "latin.txt", "latin.txt is neither UTF-8, UTF-16 nor GB18030 text."),
    "unparsable": (_unparsable, "pics.txt", "pics.txt has a problem:\nline 2: missing tag after pic_key"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_pics_file_at_start_up_is_named_and_stays_named(
    case: str,
    make_window: MakeWindow,
    tmp_path: Path,
    qtbot: QtBot,
    hanging_keyring: Any,
    expect_log: ExpectLog,
) -> None:
    make, name, expected = CASES[case]
    path = make(tmp_path / name)

    opened = make_window()  # File → Open, then Load: the message a user gets for this file
    opened_ui = Ui(opened)
    opened_ui.file_token.setText("demo-workbook")
    opened.input.open_file(path)

    def read() -> bool:
        kind, text = opened_ui.message()
        return kind in ("error", "info") and "Reading" not in text

    qtbot.waitUntil(read)
    if opened_ui.message()[0] != "error":
        opened.input.load()
    kind, said_by_open = opened_ui.message()
    assert kind == "error" and said_by_open.startswith(expected)

    # --file-token demo-workbook --pics FILE; the keyring answers (times out) only after the file was read.
    window = make_window(token_store=TokenStore(timeout=0.5))
    ui = Ui(window)
    with expect_log("kdocs_viewer.core.secrets", match="did not answer"):
        window.begin(file_token="demo-workbook", pics_file=str(path))
        qtbot.waitUntil(lambda: window.token.source() is TokenSource.NONE, timeout=5000)
    kind, text = ui.message()
    assert kind == "error"
    assert text.startswith(said_by_open)  # the same words, still on screen
    assert "Keyring unavailable" in text  # added below, not instead
    assert ui.pictures.currentWidget() is ui.placeholder  # nothing was loaded


_MAIN_SCRIPT = r"""
import sys

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication
from kdocs_viewer import app
from PySide6.QtWidgets import QLabel
from kdocs_viewer.gui.main_window import MainWindow
from kdocs_viewer.gui.token_controller import TokenSource


class Watcher(QObject):
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
                area = window.findChild(QLabel, "messageArea")
                kind, text = area.property("kind"), area.text()
                settled = window.token.source() is not TokenSource.CHECKING and "Reading" not in text
                if (settled and kind) or self.ticks > 300:
                    print("MESSAGE", kind, repr(text), flush=True)
                    window.close()


watcher = Watcher()
QTimer.singleShot(0, watcher.timer.start)
sys.exit(app.main(sys.argv[1:]))
"""


def test_kdocs_viewer_pics_garbage_shows_the_error(tmp_path: Path) -> None:
    """The real ``main(["--pics", "garbage.bin"])`` in a child process, as a user starts it."""
    garbage = _garbage(tmp_path / "garbage.bin")
    script = tmp_path / "run_main.py"
    script.write_text(_MAIN_SCRIPT, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(QT_QPA_PLATFORM="offscreen", KDOCS_VIEWER_SETTINGS=str(tmp_path / "settings.ini"))
    done = subprocess.run(
        [sys.executable, str(script), "--lang", "en", "--pics", str(garbage)],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "MESSAGE error 'garbage.bin is not a text file." in done.stdout

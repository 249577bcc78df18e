"""The window appears even when the D-Bus session bus accepts connections and never answers.

Under X11 Qt asks the session bus for its accessibility bridge at the first widget and waits for it without a
timeout; with such a bus ``kdocs-viewer`` never showed its window. Here the real ``main()`` runs in a child
process on the xcb platform (under Xvfb: offscreen Qt never talks to D-Bus, so it would prove nothing) with
``DBUS_SESSION_BUS_ADDRESS`` pointing at a socket this test serves and keeps silent.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.silent_bus import SilentBus

pytest_plugins = ["tests.silent_bus"]

REPO = Path(__file__).resolve().parents[2]
WINDOW_TIMEOUT = 60  # seconds for the child to show its window and report; it needs about two

_SCRIPT = r"""
import sys

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication

from kdocs_viewer import app
from kdocs_viewer.gui.main_window import MainWindow


class Watcher(QObject):
    # Reports once the main window is on screen and the keyring lookup has answered, then closes it.
    def __init__(self):
        super().__init__()
        self.timer = QTimer(self)
        self.timer.setInterval(20)
        self.timer.timeout.connect(self.check)

    @Slot()
    def check(self):
        for window in QApplication.topLevelWidgets():
            handle = window.windowHandle() if isinstance(window, MainWindow) else None
            if handle is None or not handle.isExposed() or "checking" in window.token.status()[0]:
                continue
            self.timer.stop()
            print("SHOWN", QApplication.platformName(), flush=True)
            print("STATUS", window.statusBar().currentMessage(), flush=True)
            print("TOKEN", window.token.status()[0], "|", window.token.status()[1], flush=True)
            window.close()


watcher = Watcher()
QTimer.singleShot(0, watcher.timer.start)
sys.exit(app.main(["--lang", "en"]))
"""


def test_window_appears_with_a_silent_session_bus(tmp_path: Path, silent_bus: SilentBus) -> None:
    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        pytest.skip("needs xvfb-run to run Qt on X11 (apt: xvfb xauth)")
    script = tmp_path / "show_window.py"
    script.write_text(_SCRIPT, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR")}
    env.update(
        QT_QPA_PLATFORM="xcb",
        DBUS_SESSION_BUS_ADDRESS=f"unix:path={silent_bus.path}",
        KDOCS_VIEWER_SETTINGS=str(tmp_path / "settings.ini"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    child = subprocess.Popen(
        [xvfb_run, "-a", "-s", "-screen 0 1024x768x24", sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
        start_new_session=True,  # xvfb-run, Xvfb and the viewer: one group to kill if it hangs
    )
    try:
        out, err = child.communicate(timeout=WINDOW_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        out, err = child.communicate()
        pytest.fail(f"no window within {WINDOW_TIMEOUT} s\nstdout:\n{out}\nstderr:\n{err[-3000:]}")
    assert child.returncode == 0, err[-3000:]
    assert "SHOWN xcb" in out
    assert silent_bus.accepted >= 1  # the probe did reach the silent bus
    assert "STATUS Running without D-Bus: the session bus did not answer" in out
    assert "TOKEN Token: none | Keyring unavailable" in out  # the keyring counts as unavailable, at once
    assert "did not answer within 2 s: running without it" in err
    assert "Traceback" not in err

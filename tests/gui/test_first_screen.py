"""``kdocs-viewer --quit-after-first-screen`` from the source tree, as packaging/build.sh runs it on the
bundle: a real process on the offscreen platform, its exit status and what it says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KDOCS_") and k not in ("DISPLAY", "WAYLAND_DISPLAY")
    }
    env.update(
        QT_QPA_PLATFORM="offscreen",
        KDOCS_VIEWER_SETTINGS=str(tmp_path / "settings.ini"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    return subprocess.run(
        [sys.executable, "-m", "kdocs_viewer", *args], capture_output=True, text=True, timeout=120, env=env
    )


def test_demo_quits_with_0_once_its_first_pictures_are_painted(tmp_path: Path) -> None:
    done = _run(tmp_path, "--demo", "--quit-after-first-screen", "90")
    assert done.returncode == 0, done.stderr
    assert "did not appear" not in done.stderr


def test_without_a_workbook_the_painted_window_is_the_first_screen(tmp_path: Path) -> None:
    done = _run(tmp_path, "--quit-after-first-screen")
    assert done.returncode == 0, done.stderr


def test_a_first_screen_that_does_not_come_in_time_exits_1_saying_so(tmp_path: Path) -> None:
    # 10 ms: far less than starting the stand-in, signing in and loading thumbnails takes.
    done = _run(tmp_path, "--demo", "--quit-after-first-screen", "0.01")
    assert done.returncode == 1
    assert "--quit-after-first-screen: the first pictures did not appear within 0.01 s" in done.stderr

"""Session folders of original bytes: private, locked while in use, removed off the GUI thread, swept after
a crash — and never taken from another running instance."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kdocs_viewer.gui.originals import LOCK_NAME, SessionFolder, sweep_abandoned


def test_a_session_folder_is_private_and_released_without_trace(tmp_path: Path) -> None:
    folder = SessionFolder(tmp_path / "root")
    folder.sweeper.join(10)
    assert folder.path.parent == tmp_path / "root" and folder.path.is_dir()
    if sys.platform != "win32":
        assert stat.S_IMODE(folder.path.stat().st_mode) == 0o700
    (folder.path / "picture.bin").write_bytes(b"x" * 1000)
    folder.release()
    assert not folder.path.exists()  # gone from its place at once; the bytes go on a worker thread
    assert folder.join(10)
    assert os.listdir(tmp_path / "root") == []
    folder.release()  # idempotent
    assert folder.join(0)


def _hold_lock_in_child(root: Path, *, kill: bool) -> Path:
    """A second process makes a session folder; with ``kill`` it dies without cleaning up (a crash)."""
    code = textwrap.dedent(f"""
        import os, signal, sys
        from pathlib import Path
        from kdocs_viewer.gui.originals import SessionFolder
        folder = SessionFolder(Path({str(root)!r}))
        folder.sweeper.join(10)
        (folder.path / "picture.bin").write_bytes(b"y" * 100)
        print(folder.path, flush=True)
        if {kill!r}:
            os.kill(os.getpid(), signal.SIGKILL)
        sys.stdin.read()
    """)
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    path = Path(child.stdout.readline().strip())
    if kill:
        child.communicate(timeout=10)  # reaps it and closes the pipes
    else:
        _LIVE.append(child)
    return path


_LIVE: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _stop_children() -> object:
    yield
    while _LIVE:
        child = _LIVE.pop()
        child.communicate("", timeout=10)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_the_folder_of_a_crashed_session_is_swept_but_a_live_one_is_kept(tmp_path: Path) -> None:
    root = tmp_path / "root"
    live = _hold_lock_in_child(root, kill=False)
    crashed = _hold_lock_in_child(root, kill=True)  # its own sweep left the live folder alone
    assert crashed.is_dir() and live.is_dir()
    old = time.time() - 3600  # however old, a live owner's lock holds
    os.utime(live / LOCK_NAME, (old, old))
    ours = SessionFolder(root)
    ours.sweeper.join(10)
    assert not crashed.exists()
    assert live.is_dir() and (live / "picture.bin").exists()
    assert ours.path.is_dir()
    ours.release()
    assert ours.join(10)


def test_sweep_removes_trash_and_old_unlocked_folders_but_not_young_ones(tmp_path: Path) -> None:
    trash = tmp_path / "trash-abc"
    old = tmp_path / "session-old"
    young = tmp_path / "session-young"
    other = tmp_path / "not-ours"
    for folder in (trash, old, young, other):
        folder.mkdir()
        (folder / "f").write_bytes(b"z")
    then = time.time() - 3600
    os.utime(old, (then, then))  # made long ago by a version without locks, or never locked
    removed = sweep_abandoned(tmp_path)
    assert sorted(p.name for p in removed) == ["session-old", "trash-abc"]
    assert young.is_dir() and other.is_dir()  # young: its owner may be about to lock it

"""The folder of one session's original picture bytes: private, locked while in use, never left behind.

Each open workbook gets a fresh ``session-*`` folder (0700) under the user's cache folder, with a
``QLockFile`` inside for as long as it is in use. Closing renames it aside at once and deletes it on a
background thread, so the GUI never waits for thousands of files to go. A folder whose owner died without
cleaning up (a crash, a kill, a power cut) could hold up to the disk budget; the next start finds it — its
lock is stale, Qt checks the owner's PID — and deletes it, again off the GUI thread.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path

from PySide6.QtCore import QLockFile, QStandardPaths

__all__ = ["SessionFolder", "cache_root", "default_root", "sweep_abandoned"]

LOCK_NAME = ".in-use.lock"
SESSION_PREFIX = "session-"
TRASH_PREFIX = "trash-"
UNLOCKED_GRACE_SECONDS = 60.0  # a folder another instance made a moment ago may not hold its lock yet


def cache_root() -> Path:
    """The app's folder in the user's cache folder (not /tmp, often RAM-backed): ``~/.cache/kdocs-viewer``
    on Linux (``$XDG_CACHE_HOME``), ``~/Library/Caches/kdocs-viewer`` on macOS, under ``%LOCALAPPDATA%`` on
    Windows."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericCacheLocation)
    return Path(base or tempfile.gettempdir()) / "kdocs-viewer"


def default_root() -> Path:
    """Where session folders go."""
    return cache_root() / "originals"


def _remove_in_background(path: Path) -> threading.Thread:
    thread = threading.Thread(
        target=shutil.rmtree, args=(path,), kwargs={"ignore_errors": True}, name="rm-originals", daemon=True
    )
    thread.start()
    return thread


def _abandoned(folder: Path, now: float) -> bool:
    """True when no live process holds ``folder``'s lock (taking the lock proves it; it is let go at once)."""
    lock_path = folder / LOCK_NAME
    if not lock_path.exists():
        try:
            return now - folder.stat().st_mtime > UNLOCKED_GRACE_SECONDS
        except OSError:
            return False
    lock = QLockFile(str(lock_path))
    lock.setStaleLockTime(0)  # stale only when the owner is gone, however old the lock (Qt's default: 30 s)
    if not lock.tryLock(0):  # held by a live process (a stale lock of a dead one is taken over)
        return False
    lock.unlock()
    return True


def sweep_abandoned(root: Path) -> list[Path]:
    """Delete folders of sessions that ended without cleaning up, and half-deleted ones; returns them.

    Blocking: run it on a worker thread (``SessionFolder`` does).
    """
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    for entry in entries:
        path = Path(entry.path)
        if not entry.is_dir(follow_symlinks=False):
            continue
        if entry.name.startswith(TRASH_PREFIX) or (
            entry.name.startswith(SESSION_PREFIX) and _abandoned(path, now)
        ):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


class SessionFolder:
    """A fresh private folder for this session, locked until ``release()``.

    Creating one also starts a sweep of abandoned folders under the same root, on a worker thread.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=SESSION_PREFIX, dir=self.root))  # 0700
        self._lock: QLockFile | None = QLockFile(str(self.path / LOCK_NAME))
        self._lock.setStaleLockTime(0)  # only the owner's death makes it stale, never its age
        self._lock.tryLock(0)
        self._remover: threading.Thread | None = None
        self.sweeper = threading.Thread(
            target=sweep_abandoned, args=(self.root,), name="sweep-originals", daemon=True
        )
        self.sweeper.start()

    def release(self) -> None:
        """Give the folder up: renamed aside now, deleted on a worker thread (``join`` waits for it)."""
        lock, self._lock = self._lock, None
        if lock is None:
            return
        lock.unlock()
        trash = self.root / f"{TRASH_PREFIX}{uuid.uuid4().hex}"
        try:
            os.rename(self.path, trash)
        except OSError:  # could not rename (an odd file system): delete in place
            trash = self.path
        self._remover = _remove_in_background(trash)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the sweep and, after ``release``, the removal; True when both are over."""
        for thread in (self.sweeper, self._remover):
            if thread is not None:
                thread.join(timeout)
        return not any(t is not None and t.is_alive() for t in (self.sweeper, self._remover))

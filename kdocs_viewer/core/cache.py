"""Byte-budgeted caches: one in memory (any values), one on disk (original picture bytes).

Both are keyed by what a picture *is* — ``(file_token, pic_key)`` — never by its URL, which changes on every
refresh and is a secret-ish signed link. Budgets are in bytes, not entries: one 40 MB scan and a hundred
8 KB icons are not the same load.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import shutil
import stat
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

__all__ = ["NO_HARD_LINKS", "ByteBudgetCache", "CachedFile", "DiskCache"]

log = logging.getLogger(__name__)

# errno values of os.link that mean "no hard links here" (FAT, exFAT, some shares, another file system).
NO_HARD_LINKS = frozenset(
    {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EMLINK, errno.EXDEV, errno.EINVAL}
)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ByteBudgetCache(Generic[K, V]):
    """Thread-safe LRU whose total ``sizeof(value)`` stays within ``budget_bytes``.

    An item larger than the whole budget is not stored (it would evict everything and then itself).
    ``on_evict(key, value)`` is called for each item pushed out by ``put`` or ``set_budget`` (not for
    ``discard``/``clear``), after the cache's lock is released, in the thread that made room.
    """

    def __init__(
        self,
        budget_bytes: int,
        sizeof: Callable[[V], int],
        on_evict: Callable[[K, V], None] | None = None,
    ) -> None:
        if budget_bytes < 0:
            raise ValueError("budget_bytes must not be negative")
        self._budget = budget_bytes
        self._sizeof = sizeof
        self._on_evict = on_evict
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    @property
    def budget_bytes(self) -> int:
        return self._budget

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return self._total

    def set_budget(self, budget_bytes: int) -> None:
        """Change the budget (e.g. from the settings), evicting least recently used items to fit."""
        if budget_bytes < 0:
            raise ValueError("budget_bytes must not be negative")
        with self._lock:
            self._budget = budget_bytes
            evicted = self._evict_locked()
        self._evicted(evicted)

    def get(self, key: K) -> V | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                return None
            self._items.move_to_end(key)
            return entry[0]

    def put(self, key: K, value: V) -> bool:
        """Store ``value``; returns False when it is larger than the budget (and then drops any old value)."""
        size = max(0, int(self._sizeof(value)))
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._total -= old[1]
            if size > self._budget:
                return False
            self._items[key] = (value, size)
            self._total += size
            evicted = self._evict_locked()
        self._evicted(evicted)
        return True

    def discard(self, key: K) -> None:
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._total -= old[1]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._total = 0

    def lru_keys(self) -> list[K]:
        """A snapshot of the keys, least recently used first."""
        with self._lock:
            return list(self._items)

    def _evict_locked(self) -> list[tuple[K, V]]:
        evicted = []
        while self._total > self._budget and self._items:
            key, (value, size) = self._items.popitem(last=False)
            self._total -= size
            evicted.append((key, value))
        return evicted

    def _evicted(self, items: list[tuple[K, V]]) -> None:
        if self._on_evict is not None:
            for key, value in items:
                self._on_evict(key, value)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __repr__(self) -> str:
        return f"<ByteBudgetCache {len(self)} items, {self.total_bytes}/{self._budget} bytes>"


# ---- disk -------------------------------------------------------------------------------------------------

# Entries are the picture's bytes as served, so the saver can hard-link or kernel-copy one instead of reading
# it into memory. Integrity comes from the index: every entry's (inode, size, mtime) as this cache wrote it,
# checked on each use, so a truncated, replaced or edited file is a miss, never handed on.
_SUFFIX = ".bin"
_TEMP_PREFIX = ".tmp-"
_STALE_TEMP_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class CachedFile:
    """A complete entry on disk, for callers that link or copy it rather than read it.

    Only valid while the file keeps the identity recorded here: check ``matches(os.stat(...))`` after
    linking or copying, because the cache may evict or replace an entry at any time.
    """

    path: Path
    size: int
    ino: int
    mtime_ns: int

    def matches(self, st: os.stat_result) -> bool:
        return (st.st_ino, st.st_size, st.st_mtime_ns) == (self.ino, self.size, self.mtime_ns)


def _identity(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def disk_key(file_token: str, pic_key: str) -> str:
    """File name stem of an entry: sha256 of ``file_token NUL pic_key`` (no names or keys on disk)."""
    return hashlib.sha256(f"{file_token}\0{pic_key}".encode()).hexdigest()


class DiskCache:
    """Private on-disk store of original picture bytes for one session, keyed by ``(file_token, pic_key)``.

    - private: the directory is 0700 and entries are written 0600 (pictures of someone's workbook are
      personal);
    - atomic: entries are written to a temp file in the same directory and renamed into place, so a crash
      or a concurrent writer never leaves a half entry under a real name;
    - bounded: total bytes stay within ``budget_bytes``, evicting least recently used entries; an entry
      larger than the budget is not stored;
    - trusted only as written: entries are plain files checked against the identity recorded when this
      instance wrote them; anything else (a file changed since, or left by an earlier run, whose history
      is unknown) is a miss and is removed, never an error.

    ``adopt`` takes a file that already exists (a picture just saved) as an entry by hard link, so saving
    does not write every picture twice. Safe for the threads of one process; one instance per directory.
    """

    def __init__(self, directory: str | os.PathLike[str], budget_bytes: int = 1 << 30) -> None:
        if budget_bytes < 0:
            raise ValueError("budget_bytes must not be negative")
        self._dir = Path(directory)
        self._budget = budget_bytes
        self._lock = threading.Lock()
        self._closed = False  # ``close()``: no more writes
        self._entries: OrderedDict[str, tuple[int, int, int]] = OrderedDict()  # LRU first; (ino, size, mtime)
        self._total = 0
        self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(self._dir, 0o700)  # mkdir's mode is masked by umask and ignored if it existed
        self._sweep()

    @property
    def directory(self) -> Path:
        return self._dir

    @property
    def budget_bytes(self) -> int:
        return self._budget

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return self._total

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __repr__(self) -> str:
        return f"<DiskCache {len(self)} entries, {self.total_bytes}/{self._budget} bytes>"

    def _path(self, stem: str) -> Path:
        return self._dir / (stem + _SUFFIX)

    def _sweep(self) -> None:
        """Remove entries of an earlier run and temp files a crash left (young temp files may be in use)."""
        now = time.time()
        try:
            names = os.listdir(self._dir)
        except OSError as exc:
            log.warning("disk cache directory unreadable: %s", exc.strerror)
            return
        for name in names:
            path = self._dir / name
            try:
                st = path.stat()
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            stale_temp = name.startswith(_TEMP_PREFIX) and now - st.st_mtime > _STALE_TEMP_SECONDS
            if stale_temp or name.endswith(_SUFFIX):
                with contextlib.suppress(OSError):
                    path.unlink()

    def entry(self, file_token: str, pic_key: str) -> CachedFile | None:
        """The entry as a file, counted as a use; None when missing or changed behind the cache's back."""
        stem = disk_key(file_token, pic_key)
        path = self._path(stem)
        with self._lock:
            known = self._entries.get(stem)
            if known is None:
                return None
            try:
                st = path.stat()
            except OSError:
                st = None
            if st is None or _identity(st) != known:
                self._drop_locked(stem, unlink=st is not None)
                return None
            self._entries.move_to_end(stem)
        return CachedFile(path, known[1], known[0], known[2])

    def get(self, file_token: str, pic_key: str) -> bytes | None:
        stem = disk_key(file_token, pic_key)
        with self._lock:
            known = self._entries.get(stem)
        if known is None:
            return None
        try:
            with open(self._path(stem), "rb") as fh:
                same = _identity(os.fstat(fh.fileno())) == known
                data = fh.read() if same else b""
        except OSError as exc:
            log.debug("disk cache entry unreadable (%s): dropped", exc.strerror)
            same = False
        with self._lock:
            if self._entries.get(stem) != known:
                return None  # replaced or evicted while we read: the bytes may not be the entry's
            if not same or len(data) != known[1]:
                log.debug("disk cache entry changed on disk: removed")
                self._drop_locked(stem, unlink=True)
                return None
            self._entries.move_to_end(stem)
        return data

    def close(self) -> None:
        """No more writes from now on (the folder is about to go): a download that ends after its session
        is not stored, and one being written meanwhile fails quietly."""
        with self._lock:
            self._closed = True

    def put(self, file_token: str, pic_key: str, data: bytes) -> bool:
        """Store ``data``; False when it is larger than the budget or cannot be written (disk full, ...),
        or after ``close()``."""
        if len(data) > self._budget or self._closed:
            return False
        temp_name: str | None = None
        try:
            fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=self._dir)  # mode 0600
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            return self._install(disk_key(file_token, pic_key), Path(temp_name))
        except OSError as exc:
            if self._closed:
                log.debug("disk cache closed during a write: %s", exc.strerror)
            else:
                log.warning("disk cache write failed: %s", exc.strerror)
            return False
        finally:
            if temp_name is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp_name)

    def adopt(self, file_token: str, pic_key: str, path: str | os.PathLike[str]) -> bool:
        """Make the complete file at ``path`` the entry, by hard link (or a kernel copy where links cannot
        reach, e.g. another file system). False when neither works; the file at ``path`` is never changed."""
        if self._closed:
            return False
        source = Path(path)
        temp = self._dir / f"{_TEMP_PREFIX}{uuid.uuid4().hex}"
        try:
            try:
                os.link(source, temp)
            except OSError as exc:
                if exc.errno not in NO_HARD_LINKS:
                    raise
                if source.stat().st_size > self._budget:
                    return False
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
                os.close(fd)
                shutil.copyfile(source, temp)
            return self._install(disk_key(file_token, pic_key), temp)
        except OSError as exc:
            log.debug("disk cache could not adopt a saved file: %s", exc.strerror)
            return False
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temp)

    def _install(self, stem: str, temp: Path) -> bool:
        """Rename ``temp`` into place and record it; the rename happens under the lock so that the index
        and the directory never disagree about which file is the entry."""
        st = temp.stat()
        if st.st_size > self._budget:
            return False
        with self._lock:
            os.replace(temp, self._path(stem))
            old = self._entries.pop(stem, None)
            if old is not None:
                self._total -= old[1]
            self._entries[stem] = _identity(st)
            self._total += st.st_size
            self._evict_locked(keep=stem)
        return True

    def discard(self, file_token: str, pic_key: str) -> None:
        with self._lock:
            self._drop_locked(disk_key(file_token, pic_key), unlink=True)

    def clear(self) -> None:
        with self._lock:
            stems = list(self._entries)
            self._entries.clear()
            self._total = 0
            for stem in stems:
                with contextlib.suppress(OSError):
                    self._path(stem).unlink()

    def _drop_locked(self, stem: str, *, unlink: bool) -> None:
        old = self._entries.pop(stem, None)
        if old is not None:
            self._total -= old[1]
            if unlink:
                with contextlib.suppress(OSError):
                    self._path(stem).unlink()

    def _evict_locked(self, keep: str | None = None) -> None:
        for stem in list(self._entries):
            if self._total <= self._budget:
                break
            if stem != keep:
                self._drop_locked(stem, unlink=True)

"""Byte-budgeted caches: one in memory (any values), one on disk (original picture bytes).

Both are keyed by what a picture *is* — ``(file_token, pic_key)`` — never by its URL, which changes on every
refresh and is a secret-ish signed link. Budgets are in bytes, not entries: one 40 MB scan and a hundred
8 KB icons are not the same load.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import stat
import struct
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

__all__ = ["ByteBudgetCache", "DiskCache"]

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ByteBudgetCache(Generic[K, V]):
    """Thread-safe LRU whose total ``sizeof(value)`` stays within ``budget_bytes``.

    An item larger than the whole budget is not stored (it would evict everything and then itself).
    """

    def __init__(self, budget_bytes: int, sizeof: Callable[[V], int]) -> None:
        if budget_bytes < 0:
            raise ValueError("budget_bytes must not be negative")
        self._budget = budget_bytes
        self._sizeof = sizeof
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
            self._evict_locked()

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
            self._evict_locked()
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

    def _evict_locked(self) -> None:
        while self._total > self._budget and self._items:
            _, (_, size) = self._items.popitem(last=False)
            self._total -= size

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __repr__(self) -> str:
        return f"<ByteBudgetCache {len(self)} items, {self.total_bytes}/{self._budget} bytes>"


# ---- disk -------------------------------------------------------------------------------------------------

# Entry layout: MAGIC, payload length (u64 big-endian), sha256(payload), payload. The header lets a reader
# reject truncated or bit-rotted files instead of handing broken bytes to the decoder or the saver.
_MAGIC = b"KDVC\x01\x00"
_HEADER = struct.Struct(f">{len(_MAGIC)}sQ32s")
_SUFFIX = ".bin"
_TEMP_PREFIX = ".tmp-"
_STALE_TEMP_SECONDS = 3600.0


@dataclass
class _DiskEntry:
    size: int  # bytes on disk, header included
    used: float  # mtime, refreshed on every hit: the LRU clock


def disk_key(file_token: str, pic_key: str) -> str:
    """File name stem of an entry: sha256 of ``file_token NUL pic_key`` (no names or keys on disk)."""
    return hashlib.sha256(f"{file_token}\0{pic_key}".encode()).hexdigest()


class DiskCache:
    """Private on-disk cache of original picture bytes, keyed by ``(file_token, pic_key)``.

    - private: the directory is 0700 and entries 0600 (pictures of someone's workbook are personal);
    - atomic: entries are written to a temp file in the same directory and renamed into place, so a crash
      or a concurrent writer never leaves a half entry under a real name;
    - bounded: total bytes stay within ``budget_bytes``, evicting least recently used entries (by mtime,
      which every hit refreshes); an entry larger than the budget is not stored;
    - forgiving: an unreadable, truncated or corrupt entry is a miss (and is removed), never an error.

    The key does not include the API host: use one directory per host (or per account) if that matters.
    Safe for threads of one process; several processes sharing a directory stay consistent on disk, each
    enforcing the budget on what it knows.
    """

    def __init__(self, directory: str | os.PathLike[str], budget_bytes: int = 1 << 30) -> None:
        if budget_bytes < 0:
            raise ValueError("budget_bytes must not be negative")
        self._dir = Path(directory)
        self._budget = budget_bytes
        self._lock = threading.Lock()
        self._entries: dict[str, _DiskEntry] = {}
        self._total = 0
        self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(self._dir, 0o700)  # mkdir's mode is masked by umask and ignored if it existed
        self._scan()
        with self._lock:
            self._evict_locked()

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

    def _scan(self) -> None:
        """Index existing entries and remove temp files left by a crash."""
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
            if name.startswith(_TEMP_PREFIX):
                if now - st.st_mtime > _STALE_TEMP_SECONDS:
                    with contextlib.suppress(OSError):
                        path.unlink()
                continue
            if name.endswith(_SUFFIX):
                with self._lock:
                    self._entries[name[: -len(_SUFFIX)]] = _DiskEntry(st.st_size, st.st_mtime)
                    self._total += st.st_size

    def get(self, file_token: str, pic_key: str) -> bytes | None:
        stem = disk_key(file_token, pic_key)
        path = self._path(stem)
        try:
            with open(path, "rb") as fh:
                blob = fh.read()
        except FileNotFoundError:
            self._forget(stem)
            return None
        except OSError as exc:
            log.debug("disk cache entry unreadable (%s): ignored", exc.strerror)
            return None
        payload = _unpack(blob)
        if payload is None:
            log.debug("disk cache entry corrupt: removed")
            self._remove(stem)
            return None
        now = time.time()
        with contextlib.suppress(OSError):
            os.utime(path, (now, now))
        with self._lock:
            entry = self._entries.get(stem)
            if entry is None:
                self._entries[stem] = _DiskEntry(len(blob), now)
                self._total += len(blob)
                self._evict_locked(keep=stem)
            else:
                entry.used = now
        return payload

    def put(self, file_token: str, pic_key: str, data: bytes) -> bool:
        """Store ``data``; False when it is larger than the budget or cannot be written (disk full, ...)."""
        blob = _pack(data)
        if len(blob) > self._budget:
            return False
        stem = disk_key(file_token, pic_key)
        temp_name: str | None = None
        try:
            fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=self._dir)  # mode 0600
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
            os.replace(temp_name, self._path(stem))
            temp_name = None
        except OSError as exc:
            log.warning("disk cache write failed: %s", exc.strerror)
            return False
        finally:
            if temp_name is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp_name)
        with self._lock:
            old = self._entries.pop(stem, None)
            if old is not None:
                self._total -= old.size
            self._entries[stem] = _DiskEntry(len(blob), time.time())
            self._total += len(blob)
            self._evict_locked(keep=stem)
        return True

    def discard(self, file_token: str, pic_key: str) -> None:
        self._remove(disk_key(file_token, pic_key))

    def clear(self) -> None:
        with self._lock:
            stems = list(self._entries)
            self._entries.clear()
            self._total = 0
        for stem in stems:
            with contextlib.suppress(OSError):
                self._path(stem).unlink()

    def _forget(self, stem: str) -> None:
        with self._lock:
            old = self._entries.pop(stem, None)
            if old is not None:
                self._total -= old.size

    def _remove(self, stem: str) -> None:
        self._forget(stem)
        with contextlib.suppress(OSError):
            self._path(stem).unlink()

    def _evict_locked(self, keep: str | None = None) -> None:
        if self._total <= self._budget:
            return
        for stem in sorted(self._entries, key=lambda s: self._entries[s].used):
            if self._total <= self._budget:
                break
            if stem == keep:
                continue
            self._total -= self._entries.pop(stem).size
            with contextlib.suppress(OSError):
                self._path(stem).unlink()


def _pack(data: bytes) -> bytes:
    return _HEADER.pack(_MAGIC, len(data), hashlib.sha256(data).digest()) + data


def _unpack(blob: bytes) -> bytes | None:
    if len(blob) < _HEADER.size:
        return None
    magic, length, digest = _HEADER.unpack_from(blob)
    payload = blob[_HEADER.size :]
    if magic != _MAGIC or length != len(payload) or hashlib.sha256(payload).digest() != digest:
        return None
    return payload

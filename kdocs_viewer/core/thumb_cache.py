"""Tile images kept between sessions: a private, bounded folder of small encoded thumbnails.

Reopening a workbook should paint its tiles before the API has answered anything. Originals are far too
big to keep (and are session-only, see ``gui.originals``); a tile at its bucket size is a few KB. What this
module guarantees, without Qt (the GUI encodes and decodes the images, this stores bytes):

- **keyed by what a tile is**: API base URL (``normalise_base_url``), file token, pic key, tag and the tile
  box in device pixels, hashed (``tile_key``): no token, key or URL appears in a name or a file. [ours] A
  pic key (with its tag) names one picture for good — the KDocs docs do not say whether replacing a cell's
  picture gives it a new key; we assume so (README) — hence a stored tile never goes stale and needs no
  lease;
- **private**: the folder is 0700 and every file 0600 (someone's private pictures, even small);
- **atomic**: a tile is written to a temp file in the folder and renamed into place, so no reader ever sees
  a half file under a real name. There is no fsync per tile: a file torn by a power cut fails its checksum
  and is dropped like any corrupt or truncated one (``get`` returns None and removes it), never shown;
- **bounded**: the folder holds at most ``budget_bytes``; least recently used tiles go first. "Used" is the
  file's mtime: written when the tile is stored and moved forward on a read only when it is older than
  ``touch_after`` seconds (default an hour), so reading a screenful writes nothing in the usual case, yet
  every process that shares the folder, and the next start, sees the same order without an index file
  that could disagree with the folder or a database to lock. The running total is counted in memory and
  re-read from the folder (one ``scandir``) when it passes the budget; eviction then goes down to 90 % of it,
  so that happens once per ~10 % of the budget written, not per tile;
- **clearable while in use**: ``clear`` removes every tile; a write that was started before it (the caller
  passes the ``generation`` it read when the work began) is refused instead of landing afterwards.

Safe for the threads of one process and for several processes sharing the folder (each rename is atomic,
an eviction racing another only finds files already gone).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import struct
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from kdocs_viewer.core.models import normalise_base_url

__all__ = [
    "DEFAULT_BUDGET",
    "StoredTile",
    "ThumbnailDiskCache",
    "TileMeta",
    "tile_key",
]

log = logging.getLogger(__name__)

DEFAULT_BUDGET = 256 * 1024 * 1024
TOUCH_AFTER_S = 3600.0  # a read moves a tile's "last used" time forward only when it is older than this
LOW_WATER = 0.9  # an eviction leaves the folder at this fraction of the budget
MAX_TILE_BYTES = 16 * 1024 * 1024  # anything bigger under our name is not a tile of ours
SUFFIX = ".tile"
_TEMP_PREFIX = ".tmp-"
_STALE_TEMP_S = 3600.0  # a temp file this old belongs to a writer that died

# magic, version, tile encoding, the original's format, its width and height, its byte count, payload length;
# then a 16-byte BLAKE2b digest of header + payload, keyed with the entry's own key (a file under another
# entry's name fails too); then the payload (the encoded tile).
_MAGIC = b"KDVT"
_VERSION = 2  # 2: tiles in sRGB (decode.for_screen); a version-1 tile may be in its photo's colours
_HEADER = struct.Struct("<4sH8s16sIIQI")
_DIGEST = 16


def tile_key(base_url: str, file_token: str, pic_key: str, tag: str, box: int) -> str:
    """The entry name of one tile: sha256 over every ingredient, each length-prefixed (no two ingredient
    lists give the same text). ``box`` is the tile's long side in device pixels (bucket × pixel ratio)."""
    parts = (normalise_base_url(base_url), file_token, pic_key, tag, str(int(box)))
    text = "".join(f"{len(part)}:{part}" for part in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class TileMeta:
    """What a tile tells about its picture besides its pixels (the preview's details show it)."""

    encoding: str  # how the tile is stored: "jpeg" or "png" (8 ASCII characters at most are kept)
    image_format: str  # the original's format, e.g. "jpeg" (16 ASCII characters at most are kept)
    pixel_size: tuple[int, int]  # the original's, after EXIF rotation
    byte_count: int  # the original's size


@dataclass(frozen=True, slots=True)
class StoredTile:
    meta: TileMeta
    payload: bytes  # the encoded tile image


def _ascii(text: str, size: int) -> bytes:
    """A short name as fixed-width ASCII (cut to ``size``: it is a label, not an identity)."""
    return text.encode("ascii", "replace")[:size]


def _digest(key: str, header: bytes, payload: bytes) -> bytes:
    h = hashlib.blake2b(header, digest_size=_DIGEST, key=bytes.fromhex(key))
    h.update(payload)
    return h.digest()


def encode_entry(key: str, tile: StoredTile) -> bytes:
    """The file's bytes: header, digest, payload."""
    meta = tile.meta
    w, h = meta.pixel_size
    header = _HEADER.pack(
        _MAGIC,
        _VERSION,
        _ascii(meta.encoding, 8),
        _ascii(meta.image_format, 16),
        max(0, w),
        max(0, h),
        max(0, meta.byte_count),
        len(tile.payload),
    )
    return header + _digest(key, header, tile.payload) + tile.payload


def decode_entry(key: str, data: bytes) -> StoredTile | None:
    """The tile in ``data``, or None when it is not a complete, intact entry named ``key``."""
    head = _HEADER.size + _DIGEST
    if len(data) < head:
        return None
    header = data[: _HEADER.size]
    magic, version, encoding, image_format, w, h, byte_count, length = _HEADER.unpack(header)
    if magic != _MAGIC or version != _VERSION or len(data) != head + length:
        return None
    payload = data[head:]
    if _digest(key, header, payload) != data[_HEADER.size : head]:
        return None
    meta = TileMeta(
        encoding.rstrip(b"\0").decode("ascii", "replace"),
        image_format.rstrip(b"\0").decode("ascii", "replace"),
        (w, h),
        byte_count,
    )
    return StoredTile(meta, payload)


class ThumbnailDiskCache:
    """See the module docstring. Nothing touches the disk until the first ``get`` or ``put``; the folder is
    made on the first ``put``. Every method does file I/O: call them off the GUI thread."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        budget_bytes: int = DEFAULT_BUDGET,
        *,
        touch_after: float = TOUCH_AFTER_S,
    ) -> None:
        if budget_bytes < 0:
            raise ValueError("budget_bytes must not be negative")
        self._dir = Path(directory)
        self._budget = budget_bytes
        self._touch_after = touch_after
        self._lock = threading.Lock()
        self._evicting = threading.Lock()  # one eviction at a time; a put over the budget waits its turn
        self._generation = 0
        self._clearing = 0
        self._ready = False  # the folder exists and is private
        self._total: int | None = None  # bytes in the folder, as far as this process knows; None: not counted
        self._written = 0  # bytes this instance has stored, ever (an eviction adds what came during its scan)

    @property
    def directory(self) -> Path:
        return self._dir

    @property
    def budget_bytes(self) -> int:
        return self._budget

    @property
    def generation(self) -> int:
        """Read it when work that may end in a ``put`` begins, and pass it to that ``put``."""
        with self._lock:
            return self._generation

    def __repr__(self) -> str:
        return f"<ThumbnailDiskCache {self._dir.name} {self._total}/{self._budget} bytes>"

    def _path(self, key: str) -> Path:
        return self._dir / (key + SUFFIX)

    # -- reading -------------------------------------------------------------------------------------------
    def get(self, key: str) -> StoredTile | None:
        """The tile, counted as a use; None when absent, being cleared, or not intact (then it is removed)."""
        with self._lock:
            if self._clearing:
                return None
        path = self._path(key)
        try:
            with open(path, "rb") as fh:
                st = os.fstat(fh.fileno())
                data = fh.read(MAX_TILE_BYTES + 1) if st.st_size <= MAX_TILE_BYTES else b""
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.debug("thumbnail cache entry unreadable (%s): a miss", exc.strerror)
            return None
        tile = decode_entry(key, data)
        if tile is None:
            log.debug("thumbnail cache entry damaged (%d bytes): removed", len(data))
            self._remove_if_same(path, st)
            return None
        if time.time() - st.st_mtime > self._touch_after:
            with contextlib.suppress(OSError):
                os.utime(path)
        return tile

    def _remove_if_same(self, path: Path, st: os.stat_result) -> None:
        """Unlink ``path`` unless another writer has put a new file there since it was read."""
        with contextlib.suppress(OSError):
            now = path.stat()
            if (now.st_ino, now.st_dev) == (st.st_ino, st.st_dev):
                path.unlink()
                self._count(-now.st_size)

    # -- writing -------------------------------------------------------------------------------------------
    def put(self, key: str, tile: StoredTile, *, generation: int | None = None) -> bool:
        """Store ``tile``; False when refused (a ``clear`` since ``generation``, larger than the budget) or
        when it cannot be written (disk full, folder gone)."""
        data = encode_entry(key, tile)
        if len(data) > min(self._budget, MAX_TILE_BYTES):
            return False
        temp: str | None = None
        try:
            self._ensure_folder()
            fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=self._dir)  # 0600
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            with self._lock:
                if generation is not None and generation != self._generation:
                    return False
                os.replace(temp, self._path(key))
                temp = None
                self._written += len(data)
                if self._total is not None:
                    self._total += len(data)
                over = self._total is None or self._total > self._budget
        except OSError as exc:
            log.debug("thumbnail cache write failed: %s", exc.strerror)
            return False
        finally:
            if temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
        if over:
            self._evict()
        return True

    def _ensure_folder(self) -> None:
        if self._ready:
            return
        self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self._dir, 0o700)  # mkdir's mode is masked by umask and ignored when the folder existed
        self._ready = True

    def discard(self, key: str) -> None:
        with contextlib.suppress(OSError):
            path = self._path(key)
            size = path.stat().st_size
            path.unlink()
            self._count(-size)

    def _count(self, delta: int) -> None:
        with self._lock:
            if self._total is not None:
                self._total = max(0, self._total + delta)

    # -- bounds ----------------------------------------------------------------------------------------------
    def _scan(self) -> list[tuple[float, int, Path]]:
        """(mtime, size, path) of every tile in the folder; temp files of dead writers are removed."""
        tiles: list[tuple[float, int, Path]] = []
        now = time.time()
        try:
            entries = list(os.scandir(self._dir))
        except FileNotFoundError:
            return tiles
        for entry in entries:
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if entry.name.endswith(SUFFIX):
                tiles.append((st.st_mtime, st.st_size, Path(entry.path)))
            elif entry.name.startswith(_TEMP_PREFIX) and now - st.st_mtime > _STALE_TEMP_S:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
        return tiles

    def _evict(self) -> None:
        """Count the folder afresh (other processes write to it too) and, when it is over the budget,
        remove the least recently used tiles down to ``LOW_WATER`` of it.

        Runs after the caller's tile is in place, so its scan includes that tile; tiles other threads store
        meanwhile are counted on top (maybe twice: the count errs high, never low), so the folder is within
        the budget once every ``put`` has returned.
        """
        with self._evicting:
            with self._lock:
                mark = self._written
            tiles = self._scan()
            total = sum(size for _, size, _ in tiles)
            if total > self._budget:
                target = int(self._budget * LOW_WATER)
                tiles.sort(key=lambda t: t[0])
                for _, size, path in tiles:
                    if total <= target:
                        break
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                    total -= size
            with self._lock:
                self._total = total + (self._written - mark)

    def total_bytes(self) -> int:
        """Bytes of tiles in the folder now (counts the folder)."""
        return sum(size for _, size, _ in self._scan())

    def clear(self) -> int:
        """Remove every tile (and refuse writes begun before); returns how many were removed. Reads miss
        while it runs. Blocking: run it on a worker thread."""
        with self._lock:
            self._generation += 1
            self._clearing += 1
        removed = 0
        try:
            for _, _, path in self._scan():
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed += 1
        finally:
            with self._lock:
                self._clearing -= 1
                self._total = None  # counted again at the next write
        return removed

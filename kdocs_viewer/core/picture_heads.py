"""Heads of pictures: the first bytes of each, enough for many tiles, in memory and spilled to disk.

``PictureSession.fetch_tile_head`` fetches a head with a Range GET and keeps it here by
``(file_token, pic_key, tag)``; the rest of the picture, when it is needed, follows the kept head. What a
tile is decoded from (``TileBytes``) and the answer "the head will not do" (``NeedsWhole``) live here too:
they are the vocabulary of heads, shared by the session and the thumbnail loader.
"""

from __future__ import annotations

import struct
import threading
from dataclasses import dataclass

from kdocs_viewer.core.cache import ByteBudgetCache, DiskCache
from kdocs_viewer.core.jpeghead import EOI, Enough, TileSource
from kdocs_viewer.core.models import PicRef

__all__ = ["DEFAULT_HEAD_BUDGET", "Head", "HeadCache", "NeedsWhole", "TileBytes"]

# Heads in memory (a few KB each, as a rule); with a disk cache they are kept there too, so the heads of
# thousands of tiles scrolled past need no second GET when the tiles come back.
DEFAULT_HEAD_BUDGET = 8 * 1024 * 1024
_HEAD_PREFIX = struct.Struct(">q")  # a head on disk: the picture's size (-1: unknown), then the bytes


@dataclass(frozen=True, slots=True)
class TileBytes:
    """What ``fetch_tile_head`` hands a tile's decoder.

    ``source`` None: ``data`` is the whole picture. ``TileSource.EXIF``: ``data`` is the head of a JPEG (at
    least through its first scan header) whose EXIF thumbnail makes the tile. ``TileSource.COARSE``:
    ``data`` is a progressive JPEG's DC scans closed with EOI, a valid JPEG that is right at tile size only.
    ``size`` is the whole picture's size in bytes when known.
    """

    data: bytes
    source: TileSource | None
    size: int | None


@dataclass(frozen=True, slots=True)
class NeedsWhole:
    """``fetch_tile_head``: the head cannot make the tile; ``fetch_bytes`` fetches the rest after it.

    ``size`` is the whole picture's size in bytes when the host said it.
    """

    size: int | None


@dataclass(frozen=True, slots=True)
class Head:
    """The first bytes of a picture, as fetched, and the picture's size when the host said it."""

    data: bytes
    size: int | None

    def tile(self, verdict: Enough) -> TileBytes:
        data = self.data[: verdict.end]
        return TileBytes(
            data + EOI if verdict.source is TileSource.COARSE else data, verdict.source, self.size
        )


class HeadCache:
    """Heads of one workbook's pictures: byte-budgeted in memory; pushed out, they go to the disk cache."""

    def __init__(
        self, file_token: str, disk: DiskCache | None, budget: int, closing: threading.Event
    ) -> None:
        self._file_token = file_token
        self._disk = disk
        self._closing = closing  # once the session closes, nothing more is written to disk
        self._heads: ByteBudgetCache[tuple[str, str, str], Head] = ByteBudgetCache(
            budget, lambda head: len(head.data) + 64, on_evict=self._spill
        )

    def _key(self, ref: PicRef) -> tuple[str, str, str]:
        return (self._file_token, ref.pic_key, ref.tag)

    @staticmethod
    def _disk_name(pic_key: str, tag: str) -> str:
        """A head's name in the disk cache, beside the originals (``DiskCache`` hashes it with the file
        token): never a pic key, so a head is never taken for an original."""
        return f"{pic_key}\0{tag}\0head"

    def get(self, ref: PicRef) -> Head | None:
        """The head from memory, else from the disk cache, where heads pushed out of memory go (the heads
        of thousands of tiles scrolled past: their tiles come back without a GET)."""
        key = self._key(ref)
        head = self._heads.get(key)
        if head is None and self._disk is not None:
            stored = self._disk.get(self._file_token, self._disk_name(ref.pic_key, ref.tag))
            if stored is not None and len(stored) >= _HEAD_PREFIX.size:
                (size,) = _HEAD_PREFIX.unpack_from(stored)
                head = Head(stored[_HEAD_PREFIX.size :], None if size < 0 else size)
                self._heads.put(key, head)
        return head

    def put(self, ref: PicRef, head: Head) -> None:
        self._heads.put(self._key(ref), head)

    def _spill(self, key: tuple[str, str, str], head: Head) -> None:
        """A head pushed out of memory goes to the disk cache (written only then: most never leave)."""
        if self._disk is not None and not self._closing.is_set():
            file_token, pic_key, tag = key
            size = -1 if head.size is None else head.size
            self._disk.put(file_token, self._disk_name(pic_key, tag), _HEAD_PREFIX.pack(size) + head.data)

    def discard(self, ref: PicRef) -> None:
        self._heads.discard(self._key(ref))
        if self._disk is not None:
            self._disk.discard(self._file_token, self._disk_name(ref.pic_key, ref.tag))

    @property
    def total_bytes(self) -> int:
        """What the heads in memory weigh (the scroll benchmark reports it)."""
        return self._heads.total_bytes

    def clear(self) -> None:
        self._heads.clear()

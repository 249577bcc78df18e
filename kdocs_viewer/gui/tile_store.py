"""The Qt half of the thumbnail disk cache (``core.thumb_cache``): tiles encoded and decoded in workers.

``TileStore`` is one workbook's view of the shared cache: it makes each tile's key from the API base URL
and the file token it was given plus the picture's key, tag and box, and turns ``QImage`` tiles into stored
bytes and back. Both directions run on the loader's worker threads, never on the GUI thread.

Workers hold the GIL inside some Qt calls (Shiboken keeps it for constructors and const getters), so none
of those may take a Qt-internal lock a GUI thread could hold while waiting for the GIL (issue 8's freeze).
Hence, as in ``decode.decode_image``: every reader and writer is told its one format (the stored tile
says whether it is JPEG or PNG) with Qt's probing of other plugins switched off, the plugins are loaded on
the GUI thread first (``load_tile_codecs``), and each reader or writer is deleted before its buffer.

One more lock order matters: Qt creates an image handler under an internal mutex and, while holding it,
calls the device's virtual methods — and a ``QBuffer`` made in Python is a Shiboken wrapper whose virtuals
take the GIL. ``read()``/``write()`` run without the GIL, so a handler created inside them would hold that
mutex while waiting for the GIL, while another worker holding the GIL in ``size()`` waits for the mutex
(gdb showed exactly this). So the handler is always created first by a const call that keeps the GIL
(``canRead()``/``canWrite()``): every thread then takes the mutex only while it holds the GIL.
Opaque tiles are JPEG (a 160 px photo tile ≈ 5–10 KB); a tile with an alpha channel is PNG, so it keeps its
transparency.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QImage, QImageReader, QImageWriter
from shiboken6 import Shiboken

from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.thumb_cache import StoredTile, ThumbnailDiskCache, TileMeta, tile_key
from kdocs_viewer.gui.decode import for_screen

__all__ = ["CachedTile", "TileStore", "decode_tile", "default_folder", "encode_tile", "load_tile_codecs"]

log = logging.getLogger(__name__)

JPEG_QUALITY = 90
_ENCODINGS = {"jpeg": b"jpeg", "png": b"png"}


def default_folder() -> Path:
    """``<the user's cache folder>/kdocs-viewer/thumbnails``, beside the session folders of originals."""
    from kdocs_viewer.gui.originals import cache_root

    return cache_root() / "thumbnails"


@dataclass(frozen=True, slots=True)
class CachedTile:
    """A tile read back from disk: the image at its stored size, and what it says about the original."""

    image: QImage
    meta: TileMeta


@functools.cache
def load_tile_codecs() -> None:
    """Load the JPEG and PNG reader and writer plugins now, on the calling (GUI) thread, once per process:
    loading a plugin takes Qt's library and event-queue locks; done here, a worker only looks the loaded
    plugin up."""
    for fmt in _ENCODINGS.values():
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.ReadWrite)
        writer = QImageWriter(buffer, fmt)
        writer.canWrite()
        Shiboken.delete(writer)
        reader = QImageReader(buffer, fmt)
        reader.setAutoDetectImageFormat(False)
        reader.canRead()
        Shiboken.delete(reader)


def encode_tile(image: QImage) -> tuple[str, bytes] | None:
    """(encoding, bytes) of ``image``: PNG when it has an alpha channel, else JPEG; None if Qt cannot."""
    encoding = "png" if image.hasAlphaChannel() else "jpeg"
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QImageWriter(buffer, _ENCODINGS[encoding])
    if encoding == "jpeg":
        writer.setQuality(JPEG_QUALITY)
    try:
        ok = writer.canWrite() and writer.write(image)  # canWrite: the handler, made under the GIL
    finally:
        Shiboken.delete(writer)  # before its buffer
    buffer.close()
    return (encoding, bytes(data.data())) if ok else None


def decode_tile(encoding: str, payload: bytes) -> QImage | None:
    """The stored tile's image; None when it does not decode (the caller drops the entry)."""
    fmt = _ENCODINGS.get(encoding)
    if fmt is None or not payload:
        return None
    buffer = QBuffer()
    buffer.setData(payload)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer, fmt)
    reader.setAutoDetectImageFormat(False)  # this reader or none: never every plugin on the bytes
    reader.setDecideFormatFromContent(False)
    reader.setAutoTransform(False)  # stored already turned the way the tile is shown
    try:
        image = reader.read() if reader.canRead() else None  # canRead: the handler, made under the GIL
    finally:
        Shiboken.delete(reader)  # before its buffer
    return None if image is None or image.isNull() else for_screen(image)  # a PNG tile: premultiplied


class TileStore:
    """Tiles of one workbook (API base URL + file token) in the shared disk cache. Thread-safe."""

    def __init__(self, cache: ThumbnailDiskCache, base_url: str, file_token: str) -> None:
        self.cache = cache
        self._base_url = base_url
        self._file_token = file_token

    def __repr__(self) -> str:  # never the file token
        return f"<TileStore {self.cache!r}>"

    def key(self, ref: PicRef, box: int) -> str:
        return tile_key(self._base_url, self._file_token, ref.pic_key, ref.tag, box)

    @property
    def generation(self) -> int:
        """Read when a tile's work begins; ``save`` refuses it if the cache was cleared since."""
        return self.cache.generation

    def load(self, ref: PicRef, box: int) -> CachedTile | None:
        """The tile from disk, or None (absent, damaged — then removed —, or being cleared). Worker only."""
        key = self.key(ref, box)
        stored = self.cache.get(key)
        if stored is None:
            return None
        image = decode_tile(stored.meta.encoding, stored.payload)
        if image is None or max(image.width(), image.height()) > box:
            log.debug("thumbnail cache tile does not decode: removed")
            self.cache.discard(key)
            return None
        return CachedTile(image, stored.meta)

    def forget(self, ref: PicRef, boxes: Iterable[int]) -> None:
        """Remove the picture's tiles of these sizes, where there are any. Worker only."""
        for box in boxes:
            self.cache.discard(self.key(ref, box))

    def save(
        self,
        ref: PicRef,
        box: int,
        image: QImage,
        *,
        image_format: str,
        pixel_size: tuple[int, int],
        byte_count: int,
        generation: int,
    ) -> bool:
        """Encode and store a freshly decoded tile; False when not stored. Worker only."""
        encoded = encode_tile(image)
        if encoded is None:
            return False
        encoding, payload = encoded
        meta = TileMeta(encoding, image_format, pixel_size, byte_count)
        return self.cache.put(self.key(ref, box), StoredTile(meta, payload), generation=generation)

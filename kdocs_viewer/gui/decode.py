"""Decoding pictures with Qt for tiles, previews and copies: the formats shown, each by its one reader.

A worker holds the GIL inside some Qt calls (Shiboken keeps it for constructors and const getters such as
``QImageReader.size()``), so none of those may take a Qt-internal lock (signal/slot connections, plugin
loading): a GUI thread holding that lock while it waits for the GIL would deadlock with it. Hence the format
comes from the bytes' signature and names one reader — never Qt's probing of every plugin, whose SVG probe
connects signals — the plugins are loaded on the GUI thread (``load_reader_plugins``), and workers make no
Qt calls but the few in ``decode_image``/``decode_head`` and their signals' ``emit`` (which releases the GIL).

Every picture leaves here ready for the screen (``for_screen``): in sRGB, as Qt paints without colour
management — a phone photo in Display P3 or a camera's Adobe RGB looked washed out — and in the format Qt
paints without converting it on every paint.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import cast

from PySide6.QtCore import QBuffer, QByteArray, QCoreApplication, QIODevice, QSize, Qt
from PySide6.QtGui import QColorSpace, QImage, QImageIOHandler, QImageReader, QTransform
from shiboken6 import Shiboken

from kdocs_viewer.core.exif import embedded_thumbnail, same_aspect
from kdocs_viewer.core.formats import sniff_extension

FULL_MAX_SIDE = 8192  # previews/copies larger than this are decoded down to it (memory, allocation limit)
ALLOCATION_LIMIT_MB = 1024  # Qt's default 256 rejects big but legitimate photos; more is a decompression bomb
STRIP_PIXELS = 1 << 18  # ``for_screen`` converts this many pixels at a time (~1 ms of GIL each)
SRGB = QColorSpace(QColorSpace.NamedColorSpace.SRgb)  # made on import (GUI thread), before any worker


class ImageDecodeError(Exception):
    """Bytes that are not a picture; the text is for people."""


@dataclass(frozen=True, slots=True)
class DecodedImage:
    image: QImage
    image_format: str
    pixel_size: tuple[int, int]  # of the original, after EXIF rotation


# The picture formats shown, by the extension ``sniff_extension`` gives their bytes → the Qt reader for them.
# Each is built into QtGui (png, bmp) or a plugin shipped with PySide6-Essentials (jpeg, gif, webp, tiff).
SHOWN_FORMATS: dict[str, bytes] = {
    ".jpg": b"jpeg",
    ".png": b"png",
    ".gif": b"gif",
    ".webp": b"webp",
    ".bmp": b"bmp",
    ".tiff": b"tiff",
}
SHOWN_NAMES = "JPEG, PNG, GIF, WebP, BMP, TIFF"  # for people, in the order above
# Readers that decode straight to a smaller size; the others allocate the whole picture first, and a picture
# past ALLOCATION_LIMIT_MB there is refused by its size before Qt tries.
_SCALED_DECODE = frozenset({b"jpeg", b"webp"})


def decode_image(data: bytes, box: int | None) -> DecodedImage:
    """Decode ``data`` to fit a ``box``×``box`` square (keeping aspect; never enlarging), or whole when None.

    Decoding to the target size lets the JPEG decoder skip most of the work (DCT scaling); EXIF orientation
    is applied. Only ``SHOWN_FORMATS`` are decoded, each by the reader its signature names (see the module
    docstring for why). Raises ImageDecodeError("empty file" / "not a picture format …" / "not a valid
    image: …").
    """
    if not data:
        raise ImageDecodeError(QCoreApplication.translate("ThumbnailLoader", "empty file"))
    extension = sniff_extension(data)
    qt_format = SHOWN_FORMATS.get(extension or "")
    if qt_format is None:
        if extension is None:
            reason = QCoreApplication.translate(
                "ThumbnailLoader", "not a picture format this viewer can show (it can show %1)"
            )
            raise ImageDecodeError(reason.replace("%1", SHOWN_NAMES))
        reason = QCoreApplication.translate(
            "ThumbnailLoader", "this viewer cannot show %1 pictures (it can show %2)"
        )
        raise ImageDecodeError(reason.replace("%1", extension[1:].upper()).replace("%2", SHOWN_NAMES))
    with _reading(data, qt_format) as reader:
        reader.setAutoTransform(True)
        reader.setAllocationLimit(ALLOCATION_LIMIT_MB)
        original = reader.size()
        transformation = reader.transformation()
        limit = box if box is not None else FULL_MAX_SIDE
        too_big = original.isValid() and (original.width() > limit or original.height() > limit)
        image = None
        if box is not None and too_big and qt_format == b"jpeg":
            image = _embedded_thumbnail(data, original, limit, transformation)
        if image is None:
            if (
                qt_format not in _SCALED_DECODE
                and original.isValid()
                and original.width() * original.height() * 4 > ALLOCATION_LIMIT_MB << 20
            ):
                reason = QCoreApplication.translate(
                    "ThumbnailLoader", "too large to show: %1 × %2 pixels (saving it still works)"
                )
                raise ImageDecodeError(
                    reason.replace("%1", f"{original.width():,}").replace("%2", f"{original.height():,}")
                )
            if too_big:
                reader.setScaledSize(_fitted(original, limit))
            image = reader.read()
        if image.isNull():
            reason = QCoreApplication.translate("ThumbnailLoader", "not a valid image: %1")
            raise ImageDecodeError(reason.replace("%1", reader.errorString()))
    if original.isValid():
        w, h = original.width(), original.height()
        if transformation & QImageIOHandler.Transformation.TransformationRotate90:
            w, h = h, w
    else:
        w, h = image.width(), image.height()
    if not original.isValid() and max(image.width(), image.height()) > limit:
        image = image.scaled(
            _fitted(image.size(), limit),
            Qt.AspectRatioMode.IgnoreAspectRatio,  # fitted already
            Qt.TransformationMode.SmoothTransformation,
        )
    return DecodedImage(for_screen(image), qt_format.decode("ascii"), (w, h))


def for_screen(image: QImage) -> QImage:
    """``image`` in sRGB (from its colour space) and in the format Qt paints fastest: RGB32, or
    ARGB32_Premultiplied with an alpha channel. ``image`` may be changed.

    The result carries no colour space: untagged means sRGB to Qt and to every reader of a copied picture,
    and a tile stored untagged is 500 bytes smaller (no ICC profile in it).

    Shiboken holds the GIL through QImage's conversions (a 12 MP photo: 20–35 ms, every other thread
    stopped), so a big picture is converted a strip at a time, the GIL free between strips. A CMYK or grey
    picture with a profile of its own is converted whole: rare, and its transform needs its own model.
    """
    space = image.colorSpace()
    alpha = image.hasAlphaChannel()
    target = QImage.Format.Format_ARGB32_Premultiplied if alpha else QImage.Format.Format_RGB32
    recolour = space.isValid() and space != SRGB
    if recolour and space.colorModel() != QColorSpace.ColorModel.Rgb:
        image = image.convertedToColorSpace(SRGB, target)
        image.setColorSpace(QColorSpace())
        return image
    if not recolour and image.format() == target:
        if space.isValid():
            image.setColorSpace(QColorSpace())  # sRGB already
        return image
    transform = space.transformationToColorSpace(SRGB) if recolour else None
    straight = QImage.Format.Format_ARGB32 if alpha else QImage.Format.Format_RGB32  # colours before alpha
    width, height = image.width(), image.height()
    if width * height <= STRIP_PIXELS:  # a tile: in place, in one go
        if transform is not None:
            image.convertTo(straight)
            image.applyColorTransform(transform)
        image.convertTo(target)
        image.setColorSpace(QColorSpace())
        return image
    out = QImage(width, height, target)
    if out.isNull():  # no memory for a second copy: as it is, Qt converts when it paints
        return image
    rows = max(1, STRIP_PIXELS // max(1, width))
    line = out.bytesPerLine()
    pixels = cast(memoryview, out.bits())  # the image's own memory, written in place
    for top in range(0, height, rows):
        count = min(rows, height - top)
        strip = image.copy(0, top, width, count)
        if transform is not None:
            strip.convertTo(straight)
            strip.applyColorTransform(transform)
        strip.convertTo(target)
        pixels[top * line : (top + count) * line] = strip.constBits()[: count * line]
    return out


def _fitted(size: QSize, limit: int) -> QSize:
    """``size`` fitted into ``limit``×``limit``, keeping its aspect, never below 1 px a side: a 1×10,000 px
    strip fitted to a 160 px tile is 0 px wide by plain scaling, and Qt then refuses to read it."""
    return size.scaled(QSize(limit, limit), Qt.AspectRatioMode.KeepAspectRatio).expandedTo(QSize(1, 1))


@contextmanager
def _reading(data: bytes, qt_format: bytes) -> Iterator[QImageReader]:
    """A reader of ``data`` by exactly the ``qt_format`` reader, for the ``with`` block.

    Auto-detection is off: with it, a reader that cannot read the bytes makes Qt try every plugin on them. On
    exit the reader is deleted before the buffer: TIFF's handler touches its device when it closes, so a
    buffer freed first crashes the process.
    """
    buffer = QBuffer()
    buffer.setData(data)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer, qt_format)
    reader.setAutoDetectImageFormat(False)
    reader.setDecideFormatFromContent(False)
    try:
        yield reader
    finally:
        Shiboken.delete(reader)


@functools.cache
def load_reader_plugins() -> None:
    """Load the plugins of ``SHOWN_FORMATS`` now, on the calling (GUI) thread; once per process (Qt keeps
    a loaded plugin until the application ends).

    Loading a plugin takes Qt's library and event-queue locks; done here, a decode worker only looks the
    loaded plugin up.
    """
    for qt_format in SHOWN_FORMATS.values():
        with _reading(b"", qt_format) as reader:
            reader.canRead()


def _embedded_thumbnail(
    data: bytes, original: QSize, limit: int, transformation: QImageIOHandler.Transformation
) -> QImage | None:
    """The camera's EXIF thumbnail fitted to ``limit``, turned as the photo is and in its colour space (the
    photo's ICC profile; for ``for_screen``), when it is at least ``limit`` px on its long side and shows the
    same picture; else None and the caller decodes the photo itself.

    A 12 MP photo costs ~30 ms of Huffman decoding even at tile size; its 160×120 thumbnail well under 1 ms.
    """
    thumb = embedded_thumbnail(data)
    if thumb is None:
        return None
    with _reading(thumb.jpeg, b"jpeg") as reader:
        reader.setAutoTransform(False)  # a thumbnail has no EXIF of its own: the photo's orientation applies
        size = reader.size()
        if not size.isValid() or max(size.width(), size.height()) < limit:
            return None
        if not same_aspect((original.width(), original.height()), (size.width(), size.height())):
            return None  # padded to another shape, or left stale by an editor that cropped the photo
        if size.width() > limit or size.height() > limit:
            reader.setScaledSize(_fitted(size, limit))
        image = reader.read()
    if image.isNull():
        return None
    if thumb.icc_profile:
        space = QColorSpace.fromIccProfile(QByteArray(thumb.icc_profile))
        if space.isValid():
            image.setColorSpace(space)
    return _oriented(image, transformation)


def set_tile_dpr(image: QImage, pixel_size: tuple[int, int], dpr: float) -> None:
    """A tile decoded at box × dpr has dpr pixels per logical px; a picture smaller than that was not scaled
    and keeps one pixel per logical px, so at 2× it is shown at its size, not half. ``pixel_size``: the
    original's. The same for a fresh decode and a tile read back from the disk cache."""
    shrunk = (image.width(), image.height()) != tuple(pixel_size)
    image.setDevicePixelRatio(dpr if shrunk else 1.0)


def _oriented(image: QImage, transformation: QImageIOHandler.Transformation) -> QImage:
    """``image`` turned as Qt turns a photo for its EXIF orientation: mirror or flip, then 90° clockwise."""
    T = QImageIOHandler.Transformation
    if transformation == T.TransformationNone:
        return image
    matrix = QTransform.fromScale(
        -1 if transformation & T.TransformationMirror else 1,
        -1 if transformation & T.TransformationFlip else 1,
    )
    if transformation & T.TransformationRotate90:
        matrix = matrix * QTransform().rotate(90)
    return image.transformed(matrix)


def decode_head(data: bytes, box: int) -> DecodedImage | None:
    """The tile of a JPEG from its head (``TileSource.EXIF``: the file at least through its first scan
    header): the EXIF thumbnail, fitted to ``box`` and turned as the photo is, by ``decode_image``'s rules
    (``_embedded_thumbnail``). None when the thumbnail does not make the tile after all (damaged): the
    caller then decodes the whole picture. The picture data itself is never read, so a head never decodes
    to a half-grey picture.
    """
    with _reading(data, b"jpeg") as reader:
        reader.setAutoTransform(True)
        original = reader.size()
        transformation = reader.transformation()
    if not original.isValid() or max(original.width(), original.height()) <= box:
        return None
    image = _embedded_thumbnail(data, original, box, transformation)
    if image is None:
        return None
    w, h = original.width(), original.height()
    if transformation & QImageIOHandler.Transformation.TransformationRotate90:
        w, h = h, w
    return DecodedImage(for_screen(image), "jpeg", (w, h))

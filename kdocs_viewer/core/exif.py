"""The small JPEG that cameras and phones embed in a photo's EXIF data (IFD1, 160×120 by the DCF standard).

A grid tile of a 12 MP photo needs about 1 % of its pixels, yet decoding the photo — even scaled down — costs
tens of milliseconds of Huffman decoding. The embedded thumbnail decodes in well under a millisecond, so it
is the tile's picture whenever it is big enough and really shows the same picture (same aspect ratio: some
cameras pad a 16:9 photo's thumbnail to 4:3 with black bars, and an editor that cropped the photo without
rewriting the thumbnail leaves a stale one behind).
"""

from __future__ import annotations

import io
import logging
import warnings
from typing import NamedTuple

__all__ = ["Thumbnail", "embedded_thumbnail", "same_aspect"]

log = logging.getLogger(__name__)

_EXIF_HEADER = b"Exif\x00\x00"
_JPEG_OFFSET = 0x0201  # JPEGInterchangeFormat, in IFD1
_JPEG_LENGTH = 0x0202  # JPEGInterchangeFormatLength
ASPECT_TOLERANCE = 0.03  # rounding of 4000×3000 → 160×120 and the like; padded 16:9 → 4:3 is 25 % off


class Thumbnail(NamedTuple):
    jpeg: bytes
    icc_profile: bytes | None  # the photo's (APP2): a thumbnail has none, and is in the photo's colours


def embedded_thumbnail(data: bytes) -> Thumbnail | None:
    """``data``'s EXIF thumbnail, or None (not a JPEG, no EXIF, no thumbnail, damaged).

    Reads only the headers (Pillow stops at the first scan), so it costs a fraction of a millisecond.
    """
    if not data.startswith(b"\xff\xd8"):
        return None
    # Imported here, not at the top: the first call runs on a decode thread, not on the GUI thread.
    from PIL import ExifTags, Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns about odd EXIF; odd EXIF just means "no thumbnail"
            with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
                raw = image.info.get("exif")
                if not isinstance(raw, bytes) or not raw.startswith(_EXIF_HEADER):
                    return None
                ifd1 = image.getexif().get_ifd(ExifTags.IFD.IFD1)
                icc = image.info.get("icc_profile")
    except Exception as exc:  # any parser failure on hostile bytes is a plain "no"
        log.debug("no EXIF thumbnail: %s", type(exc).__name__)
        return None
    offset, length = ifd1.get(_JPEG_OFFSET), ifd1.get(_JPEG_LENGTH)
    if not isinstance(offset, int) or not isinstance(length, int) or offset <= 0 or length <= 0:
        return None
    start = len(_EXIF_HEADER) + offset  # IFD offsets count from the TIFF header, right after "Exif\0\0"
    thumb = raw[start : start + length]
    if len(thumb) != length or not thumb.startswith(b"\xff\xd8"):
        return None
    return Thumbnail(thumb, icc if isinstance(icc, bytes) and icc else None)


def same_aspect(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether two sizes have the same aspect ratio, give or take the rounding of a small thumbnail."""
    (aw, ah), (bw, bh) = a, b
    if min(aw, ah, bw, bh) <= 0:
        return False
    return abs((aw / ah) / (bw / bh) - 1.0) <= ASPECT_TOLERANCE

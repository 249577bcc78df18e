"""Pictures at the edges of what decoding takes: extreme shapes, decompression bombs."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from kdocs_viewer.gui.decode import ImageDecodeError, decode_image


def png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG file whose header claims ``width`` × ``height`` pixels: a decompression bomb's shape."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width * 3 + 1) * 4)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(1, 10_000), (10_000, 1), (3, 2_000)])
@pytest.mark.parametrize("box", [160, None], ids=["tile", "whole"])
def test_a_hair_thin_picture_still_gets_a_tile(size: tuple[int, int], box: int | None) -> None:
    """Fitted into a tile, a 1 × 10,000 strip is less than a pixel wide; it read as "Unknown error"."""
    decoded = decode_image(png(size), box)
    assert decoded.pixel_size == size
    assert min(decoded.image.width(), decoded.image.height()) >= 1
    assert max(decoded.image.width(), decoded.image.height()) <= (box or 8192)


def test_a_decompression_bomb_is_refused_by_its_size_not_as_broken() -> None:
    with pytest.raises(ImageDecodeError, match=r"too large to show: 50,000 × 50,000 pixels"):
        decode_image(png_claiming(50_000, 50_000), 160)

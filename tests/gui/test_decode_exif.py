"""Tiles of camera photos come from the EXIF thumbnail when it is big enough and shows the same picture,
turned exactly as the photo is; otherwise from the photo itself."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw
from PySide6.QtGui import QImage

from kdocs_viewer.gui.decode import decode_image
from kdocs_viewer.standin.images import camera_exif

MAIN, THUMB = 250, 150  # the red channel tells which one was decoded


def quadrants(size: tuple[int, int], red: int) -> Image.Image:
    """Four different corners, so any mirror or turn shows."""
    w, h = size
    image = Image.new("RGB", size, (red, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, w // 2, h // 2), fill=(red, 0, 0))
    draw.rectangle((w // 2, 0, w, h // 2), fill=(red, 200, 0))
    draw.rectangle((0, h // 2, w // 2, h), fill=(red, 0, 200))
    return image


def camera_jpeg(size: tuple[int, int], orientation: int = 1, thumb: Image.Image | None = None) -> bytes:
    stored = quadrants(size, MAIN)
    out = io.BytesIO()
    embedded = thumb if thumb is not None else quadrants(size, THUMB)
    stored.save(out, "JPEG", quality=95, exif=camera_exif(embedded, orientation=orientation))
    return out.getvalue()


def corners(image: QImage) -> list[tuple[int, int, int]]:
    w, h = image.width(), image.height()
    points = [(w // 4, h // 4), (3 * w // 4, h // 4), (w // 4, 3 * h // 4), (3 * w // 4, 3 * h // 4)]
    return [image.pixelColor(x, y).getRgb()[:3] for x, y in points]


def near(a: int, b: int) -> bool:
    return abs(a - b) < 30


@pytest.mark.parametrize("orientation", range(1, 9))
def test_the_thumbnail_is_used_and_turned_like_the_photo(orientation: int) -> None:
    data = camera_jpeg((1600, 1200), orientation)
    tile = decode_image(data, 160)
    whole = decode_image(data, None)  # the photo itself, turned by Qt
    assert (tile.image.width(), tile.image.height()) == ((160, 120) if orientation < 5 else (120, 160))
    assert tile.pixel_size == whole.pixel_size == ((1600, 1200) if orientation < 5 else (1200, 1600))
    assert tile.image_format == "jpeg"
    got, want = corners(tile.image), corners(whole.image)
    assert all(near(g[0], THUMB) for g in got)  # from the thumbnail...
    assert all(near(w[0], MAIN) for w in want)
    for g, w in zip(got, want, strict=True):  # ...with every corner where the turned photo has it
        assert near(g[1], w[1]) and near(g[2], w[2])


def test_a_thumbnail_smaller_than_the_tile_is_not_stretched() -> None:
    tile = decode_image(camera_jpeg((1600, 1200)), 320)
    assert (tile.image.width(), tile.image.height()) == (320, 240)
    assert all(near(c[0], MAIN) for c in corners(tile.image))


def test_a_padded_or_stale_thumbnail_is_not_used() -> None:
    padded = Image.new("RGB", (160, 120), (THUMB, 0, 0))  # a 16:9 photo's thumbnail with black bars
    tile = decode_image(camera_jpeg((1920, 1080), thumb=padded), 160)
    assert (tile.image.width(), tile.image.height()) == (160, 90)
    assert all(near(c[0], MAIN) for c in corners(tile.image))


def test_photos_without_a_thumbnail_and_small_ones_decode_as_before() -> None:
    out = io.BytesIO()
    quadrants((1600, 1200), MAIN).save(out, "JPEG", quality=95)
    tile = decode_image(out.getvalue(), 160)
    assert (tile.image.width(), tile.image.height()) == (160, 120)
    small = decode_image(camera_jpeg((120, 90)), 160)  # already smaller than the tile: the photo itself
    assert (small.image.width(), small.image.height()) == (120, 90)
    assert all(near(c[0], MAIN) for c in corners(small.image))

"""What a tile needs of a JPEG's first bytes: the EXIF thumbnail, a progressive JPEG's DC scans, or all."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image, ImageDraw

from kdocs_viewer.core.jpeghead import (
    EOI,
    HEAD_BYTES,
    MAX_HEAD_BYTES,
    MIN_HEAD_BYTES,
    Enough,
    HeadSizer,
    More,
    TileSource,
    coarse_covers,
    jpeg_size,
    tile_verdict,
)
from kdocs_viewer.standin.images import camera_exif


def noisy(size: tuple[int, int], seed: int = 1) -> Image.Image:
    """Noise compresses badly: the picture data is far bigger than any header."""
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def photo(
    size: tuple[int, int] = (1600, 1200), *, thumb: Image.Image | None = None, thumb_box: int = 160
) -> bytes:
    stored = noisy(size)
    out = io.BytesIO()
    stored.save(out, "JPEG", quality=85, exif=camera_exif(thumb or stored, thumb_box=thumb_box))
    return out.getvalue()


def scene(size: tuple[int, int], seed: int = 1) -> Image.Image:
    """Gradients, shapes and some grain: DC coefficients vary like a photo's (random pixels would not)."""
    rng = random.Random(seed)
    ramp = Image.linear_gradient("L")
    image = Image.merge(
        "RGB", [ramp.resize(size), ramp.rotate(90).resize(size), Image.radial_gradient("L").resize(size)]
    )
    draw = ImageDraw.Draw(image)
    for _ in range(20):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        draw.ellipse(
            (x, y, x + size[0] // 5, y + size[1] // 5), fill=tuple(rng.randrange(256) for _ in range(3))
        )
    return Image.blend(image, noisy(size, seed), 0.15)


def progressive(size: tuple[int, int] = (2400, 1800)) -> bytes:
    out = io.BytesIO()
    scene(size).save(out, "JPEG", quality=85, progressive=True)
    return out.getvalue()


def first_sos_end(data: bytes) -> int:
    """The end of the photo's own first scan header (the EXIF thumbnail inside APP1 has one too)."""
    pos = 2
    while data[pos + 1] != 0xDA:
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")


def test_a_camera_photo_needs_its_header_only() -> None:
    data = photo()
    verdict = tile_verdict(data[:HEAD_BYTES], 160)
    assert verdict == Enough(first_sos_end(data), TileSource.EXIF)
    assert verdict.end < 16 * 1024 < len(data) // 10
    assert tile_verdict(data[: verdict.end], 160) == verdict  # the head alone says the same
    assert tile_verdict(data[:HEAD_BYTES], 96) == verdict  # smaller tiles too


def test_a_thumbnail_smaller_than_the_tile_means_the_whole_photo() -> None:
    data = photo()
    assert tile_verdict(data[:HEAD_BYTES], 161) is None  # baseline JPEG: nothing coarser to use
    assert tile_verdict(data[:HEAD_BYTES], 320) is None  # HiDPI: 160 px tile × 2


def test_padded_or_stale_thumbnails_are_refused_as_core_exif_says() -> None:
    wide = (1920, 1080)
    padded = Image.new("RGB", (160, 120))  # a 16:9 photo's thumbnail padded to 4:3
    assert tile_verdict(photo(wide, thumb=padded)[:HEAD_BYTES], 160) is None
    stale = noisy((1600, 1200))  # the photo was cropped to 16:9; the thumbnail still shows 4:3
    assert tile_verdict(photo(wide, thumb=stale)[:HEAD_BYTES], 160) is None
    assert isinstance(tile_verdict(photo(wide)[:HEAD_BYTES], 160), Enough)


def test_a_tile_sized_picture_is_fetched_whole() -> None:
    assert tile_verdict(photo((160, 120))[:HEAD_BYTES], 160) is None


def test_a_header_running_past_the_bytes_asks_for_more_once() -> None:
    data = photo(thumb_box=512)  # a 512 px thumbnail, as some phones write: a long EXIF segment
    app1 = data.index(b"\xff\xe1")
    exif_end = app1 + 2 + int.from_bytes(data[app1 + 2 : app1 + 4], "big")
    assert app1 < 64 and exif_end > 8 * 1024
    verdict = tile_verdict(data[: 8 * 1024], 160)
    assert isinstance(verdict, More) and verdict.end > exif_end
    assert tile_verdict(data[: verdict.end], 160) == Enough(first_sos_end(data), TileSource.EXIF)
    assert tile_verdict(data[: verdict.end], 512) == Enough(first_sos_end(data), TileSource.EXIF)
    assert tile_verdict(data[:3], 160) == More(2 + 16 * 1024)


def test_a_progressive_jpeg_gives_its_dc_scans_for_tiles_of_an_eighth() -> None:
    data = progressive()
    asked = tile_verdict(data[: 16 * 1024], 300)  # 2400 / 8 = 300; the DC scans go on past 16 KiB
    assert isinstance(asked, More) and asked.end < len(data) // 2
    verdict = tile_verdict(data[: asked.end], 300)  # one more request holds them
    assert isinstance(verdict, Enough) and verdict.source is TileSource.COARSE
    assert verdict.end < len(data) // 4
    assert data[verdict.end] == 0xFF and data[verdict.end + 1] not in (0x00, 0xD9)  # a marker starts there
    assert tile_verdict(data[: verdict.end + 2], 300) == verdict  # the next marker shows where the scan ends
    assert tile_verdict(data[:HEAD_BYTES], 301) is None  # more than DC needed: the whole file
    truncated = data[: verdict.end - 1]
    assert isinstance(tile_verdict(truncated, 300), More)


def test_other_bytes_need_the_whole_file() -> None:
    png = io.BytesIO()
    noisy((64, 64)).save(png, "PNG")
    assert tile_verdict(png.getvalue(), 32) is None
    assert tile_verdict(b"", 32) is None
    assert tile_verdict(b"\xff\xd8\x00garbage" * 10, 32) is None
    assert tile_verdict(b"\xff\xd8\xff\xd9", 32) is None  # an image that ends before any frame
    data = photo()
    broken = data[:2] + b"\xff\xe1\x00\x01" + data[6:]  # a segment length below 2
    assert tile_verdict(broken[:HEAD_BYTES], 160) is None


def test_coarse_covers_follows_qts_scaled_decoding() -> None:
    assert coarse_covers((4000, 3000), 500)  # 4000 → 500: exactly 1/8
    assert not coarse_covers((4000, 3000), 501)
    assert coarse_covers((3000, 4000), 500)
    assert coarse_covers((4000, 1000), 320)  # a panorama: 4000 / 320 = 12.5, 1000 / 80 = 12.5
    assert not coarse_covers((0, 10), 1)


def test_jpeg_size_reads_the_frame_header() -> None:
    assert jpeg_size(photo((640, 480))) == (640, 480)
    assert jpeg_size(b"not a jpeg") is None


def test_head_sizer_learns_what_the_workbooks_photos_need() -> None:
    sizer = HeadSizer()
    assert sizer.size() == HEAD_BYTES  # nothing known yet
    sizer.learn(4_500)
    assert sizer.size() == MIN_HEAD_BYTES
    sizer.learn(30_000)  # a bigger header: 30,000 × 1.25 in 4 KiB steps
    assert sizer.size() == 40 * 1024
    sizer.learn(200_000)
    assert sizer.size() == MAX_HEAD_BYTES


@pytest.mark.parametrize("box", [96, 160])
def test_the_coarse_prefix_closed_with_eoi_is_a_jpeg(box: int) -> None:
    data = progressive((1600, 1200))
    verdict = tile_verdict(data, box)
    assert isinstance(verdict, Enough) and verdict.source is TileSource.COARSE
    with Image.open(io.BytesIO(data[: verdict.end] + EOI)) as image:
        image.draft("RGB", (box, box))  # libjpeg's DC-only scaling, as Qt asks for it
        image.load()
        assert max(image.size) >= box

"""Tiles from the head of the file, through the ThumbnailLoader and a real session over the stand-in.

A camera photo's tile comes from a 206 head and its EXIF thumbnail, turned exactly as Qt turns the whole
photo (all 8 EXIF orientations) and in the same size bucket; HiDPI tiles, a damaged thumbnail and a
server without Range support fall back to the whole picture. What went over the wire is read from the
stand-in's request log.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtGui import QImage, QPixmap
from pytestqt.qtbot import QtBot

from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.cache import ByteBudgetCache
from kdocs_viewer.core.jpeghead import HEAD_BYTES
from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.session import PictureSession
from kdocs_viewer.gui.decode import decode_image
from kdocs_viewer.gui.picture_model import ThumbKey, ThumbnailResult, pixmap_bytes
from kdocs_viewer.gui.thumbnails import ThumbnailLoader
from kdocs_viewer.standin.images import camera_exif
from kdocs_viewer.standin.server import StandinServer
from tests.gui.test_decode_exif import MAIN, THUMB, corners, near, quadrants
from tests.helpers.wire import bytes_over_wire, bytes_sent_twice, picture_gets

SIZE = (1600, 1200)
DAMAGED = "z-damaged-thumbnail.jpg"
PROGRESSIVE = "y-progressive.jpg"


def grainy(image: Image.Image, seed: int) -> Image.Image:
    """Fine grain makes the file far bigger than a head; ±13 levels leave the colours recognisable."""
    rng = random.Random(seed)
    noise = Image.frombytes("RGB", image.size, rng.randbytes(image.size[0] * image.size[1] * 3))
    return Image.blend(image, noise, 0.1)


def camera_photo(orientation: int, seed: int) -> bytes:
    out = io.BytesIO()
    grainy(quadrants(SIZE, MAIN), seed).save(
        out, "JPEG", quality=90, exif=camera_exif(quadrants(SIZE, THUMB), orientation=orientation)
    )
    return out.getvalue()


def with_12_bit_thumbnail(data: bytes) -> bytes:
    """The EXIF thumbnail's frame header says 12-bit samples: its size still reads, Qt cannot decode it."""
    thumb = data.index(b"\xff\xd8", 4)
    frame = data.index(b"\xff\xc0", thumb)
    return data[: frame + 4] + bytes([12]) + data[frame + 5 :]


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("head-photos")
    for orientation in range(1, 9):
        (folder / f"o{orientation}.jpg").write_bytes(camera_photo(orientation, orientation))
    (folder / DAMAGED).write_bytes(with_12_bit_thumbnail(camera_photo(1, 9)))
    out = io.BytesIO()
    grainy(quadrants(SIZE, MAIN), 10).save(out, "JPEG", quality=90, progressive=True)
    (folder / PROGRESSIVE).write_bytes(out.getvalue())
    return folder


Rig = tuple[
    ThumbnailLoader, PictureSession, StandinServer, ByteBudgetCache[ThumbKey, QPixmap], dict[str, PicRef]
]


@pytest.fixture
def rig(
    qtbot: QtBot, standin_factory: Callable[..., StandinServer], photos: Path
) -> Iterator[Callable[..., Rig]]:
    made: list[tuple[ThumbnailLoader, PictureSession, KDocsClient]] = []

    def make(**config: object) -> Rig:
        server = standin_factory(dataset=photos, pictures=0, **config)
        client = KDocsClient("demo-token", server.base_url)
        session = PictureSession(client, "demo-workbook")
        refs = {Path(server.picture_info(r.pic_key).source or "").name: r for r in server.pictures()}
        session.resolve(list(refs.values()))
        cache: ByteBudgetCache[ThumbKey, QPixmap] = ByteBudgetCache(32 * 1024 * 1024, pixmap_bytes)
        loader = ThumbnailLoader(session, cache)
        made.append((loader, session, client))
        return loader, session, server, cache, refs

    yield make
    for loader, session, client in made:
        loader.shutdown()
        session.close()
        client.close()


def load(
    qtbot: QtBot, loader: ThumbnailLoader, refs: list[PicRef], bucket: int, dpr: float
) -> list[ThumbnailResult]:
    got: list[ThumbnailResult] = []
    loader.thumbnailsReady.connect(got.extend)
    loader.request(refs, [], bucket, dpr)
    qtbot.waitUntil(lambda: len(got) == len(refs), timeout=10_000)
    qtbot.waitUntil(loader.is_idle, timeout=5000)
    return got


def tile(cache: ByteBudgetCache[ThumbKey, QPixmap], ref: PicRef, bucket: int) -> QImage:
    pixmap = cache.get((ref.pic_key, ref.tag, bucket))
    assert pixmap is not None
    return pixmap.toImage()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_tile_from_a_206_head_is_turned_and_sized_like_the_whole_photo(
    qtbot: QtBot, rig: Callable[..., Rig], orientation: int
) -> None:
    loader, _, server, cache, refs = rig()
    ref = refs[f"o{orientation}.jpg"]
    data = server.image_bytes(ref.pic_key)
    assert len(data) > 4 * HEAD_BYTES
    [result] = load(qtbot, loader, [ref], 160, 1.0)
    # Over the wire: one head, a fraction of the photo.
    [get] = picture_gets(server, ref.pic_key)
    assert (get.status, get.range) == (206, f"bytes=0-{HEAD_BYTES - 1}")
    whole = decode_image(data, None)  # the photo itself, turned by Qt
    assert result.pixel_size == whole.pixel_size == (SIZE if orientation < 5 else SIZE[::-1])
    assert result.byte_count == len(data)
    image = tile(cache, ref, 160)
    # The same size bucket as the whole photo's tile: the long side fills the box, the aspect is kept.
    assert (image.width(), image.height()) == ((160, 120) if orientation < 5 else (120, 160))
    got, want = corners(image), corners(whole.image)
    assert all(near(g[0], THUMB) for g in got)  # from the EXIF thumbnail...
    for g, w in zip(got, want, strict=True):  # ...with every corner where the turned photo has it
        assert near(g[1], w[1]) and near(g[2], w[2])


def test_a_hidpi_tile_is_made_from_the_whole_photo_fetched_as_head_and_rest(
    qtbot: QtBot, rig: Callable[..., Rig]
) -> None:
    loader, session, server, cache, refs = rig()
    ref = refs["o1.jpg"]
    [result] = load(qtbot, loader, [ref], 160, 2.0)  # 320 device pixels: the 160 px thumbnail is too small
    image = tile(cache, ref, 160)
    assert (image.width(), image.height()) == (320, 240)
    assert all(near(c[0], MAIN) for c in corners(image))
    assert [g.status for g in picture_gets(server, ref.pic_key)] == [206, 206]
    assert bytes_sent_twice(server, ref.pic_key) == 0
    assert session.fetch_bytes(ref) == server.image_bytes(ref.pic_key)  # kept as the original
    assert len(picture_gets(server, ref.pic_key)) == 2
    assert result.byte_count == len(server.image_bytes(ref.pic_key))


@pytest.mark.qt_log_ignore("Unsupported JPEG data precision 12")
def test_a_thumbnail_qt_cannot_decode_sends_the_tile_to_the_whole_photo(
    qtbot: QtBot, rig: Callable[..., Rig]
) -> None:
    loader, _, server, cache, refs = rig()
    ref = refs[DAMAGED]
    load(qtbot, loader, [ref], 160, 1.0)
    image = tile(cache, ref, 160)
    assert all(near(c[0], MAIN) for c in corners(image))  # the photo itself, never a broken tile
    assert [g.status for g in picture_gets(server, ref.pic_key)] == [206, 206]  # the head, then the rest
    assert bytes_sent_twice(server, ref.pic_key) == 0
    assert loader.jobs_started == 1 and loader.decodes_started == 2  # the head, then the whole photo


def test_a_progressive_photos_tile_comes_from_its_first_scans(qtbot: QtBot, rig: Callable[..., Rig]) -> None:
    loader, _, server, cache, refs = rig()
    ref = refs[PROGRESSIVE]
    data = server.image_bytes(ref.pic_key)
    [result] = load(qtbot, loader, [ref], 160, 1.0)  # 1600 / 8 = 200 ≥ 160
    assert result.pixel_size == SIZE and result.byte_count == len(data)
    assert bytes_over_wire(server, ref.pic_key) < len(data) // 4
    image = tile(cache, ref, 160)
    full = decode_image(data, 160).image
    assert (image.width(), image.height()) == (full.width(), full.height()) == (160, 120)
    for g, w in zip(corners(image), corners(full), strict=True):
        assert all(near(a, b) for a, b in zip(g, w, strict=True))


def test_without_range_support_each_tile_is_one_get(qtbot: QtBot, rig: Callable[..., Rig]) -> None:
    loader, session, server, cache, refs = rig(honour_range=False)
    wanted = [refs[f"o{o}.jpg"] for o in (1, 6)] + [refs[PROGRESSIVE]]
    load(qtbot, loader, wanted, 160, 1.0)
    for ref in wanted:
        [get] = picture_gets(server, ref.pic_key)
        assert get.status == 200
        assert cache.get((ref.pic_key, ref.tag, 160)) is not None
        assert session.fetch_bytes(ref) == server.image_bytes(ref.pic_key)  # the answer was kept whole
        assert len(picture_gets(server, ref.pic_key)) == 1
    assert all(near(c[0], THUMB) for c in corners(tile(cache, wanted[0], 160)))  # still the EXIF thumbnail

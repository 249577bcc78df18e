"""Thumbnail decoding and the ThumbnailLoader's queue discipline, with a real session over the stand-in."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtGui import QPixmap
from pytestqt.qtbot import QtBot

from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.cache import ByteBudgetCache
from kdocs_viewer.core.session import PictureSession
from kdocs_viewer.gui.picture_model import ThumbKey, ThumbnailResult
from kdocs_viewer.gui.thumbnails import (
    MAX_PENDING,
    FullImage,
    ImageDecodeError,
    ThumbnailLoader,
    decode_image,
    pixmap_bytes,
)
from kdocs_viewer.standin.server import StandinServer


def jpeg_bytes(width: int, height: int, *, orientation: int | None = None) -> bytes:
    image = Image.new("RGB", (width, height), "#3a7")
    buffer = io.BytesIO()
    if orientation is None:
        image.save(buffer, "JPEG")
    else:
        exif = Image.Exif()
        exif[0x0112] = orientation
        image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_decode_scales_down_to_the_box_and_reports_the_original_size() -> None:
    decoded = decode_image(jpeg_bytes(1600, 1200), 256)
    assert max(decoded.image.width(), decoded.image.height()) <= 256
    assert decoded.image.width() >= 250  # aspect kept, box filled on the long side
    assert decoded.pixel_size == (1600, 1200)
    assert decoded.image_format == "jpeg"


def test_decode_never_enlarges_small_pictures() -> None:
    decoded = decode_image(jpeg_bytes(40, 30), 256)
    assert (decoded.image.width(), decoded.image.height()) == (40, 30)


def test_decode_applies_exif_rotation() -> None:
    decoded = decode_image(jpeg_bytes(300, 200, orientation=6), 128)  # stored landscape, shown portrait
    assert decoded.pixel_size == (200, 300)
    assert decoded.image.height() > decoded.image.width()


def test_decode_whole_picture_when_no_box() -> None:
    decoded = decode_image(jpeg_bytes(900, 700), None)
    assert (decoded.image.width(), decoded.image.height()) == (900, 700)


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"", "empty file"), (b"\x00garbage" * 50, "not a valid image: ")],
)
def test_decode_errors_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(ImageDecodeError) as caught:
        decode_image(data, 128)
    assert str(caught.value).startswith(reason)


# ------------------------------------------------------------------------------------------- the loader
@pytest.fixture(scope="module")
def picture_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("thumbs")
    for index in range(4):
        Image.new("RGB", (400 + index, 300), (60 * index, 120, 200)).save(folder / f"{index}.jpg")
    return folder


Setup = tuple[ThumbnailLoader, PictureSession, StandinServer, ByteBudgetCache[ThumbKey, QPixmap]]


@pytest.fixture
def setup(
    qtbot: QtBot, standin_factory: Callable[..., StandinServer], picture_folder: Path
) -> Iterator[Callable[..., Setup]]:
    made: list[tuple[ThumbnailLoader, PictureSession, KDocsClient]] = []

    def make(pictures: int = 40, resolve: bool = True, **config: object) -> Setup:
        server = standin_factory(pictures=pictures, dataset=picture_folder, **config)
        client = KDocsClient("demo-token", server.base_url)
        session = PictureSession(client, "demo-workbook")
        if resolve:
            session.resolve(server.pictures())
        cache: ByteBudgetCache[ThumbKey, QPixmap] = ByteBudgetCache(32 * 1024 * 1024, pixmap_bytes)
        loader = ThumbnailLoader(session, cache)
        made.append((loader, session, client))
        return loader, session, server, cache

    yield make
    for loader, session, client in made:
        loader.shutdown()
        session.close()
        client.close()


def collect_ready(loader: ThumbnailLoader) -> list[ThumbnailResult]:
    got: list[ThumbnailResult] = []
    loader.thumbnailsReady.connect(got.extend)
    return got


def test_loader_decodes_hidpi_thumbnails_in_batches(qtbot: QtBot, setup: Callable[..., Setup]) -> None:
    loader, _, server, cache = setup()
    refs = server.pictures()[:6]
    batches: list[list[ThumbnailResult]] = []
    loader.thumbnailsReady.connect(batches.append)
    loader.request(refs[:4], refs[4:], 128, 2.0)
    qtbot.waitUntil(lambda: sum(len(b) for b in batches) == 6, timeout=5000)
    assert len(batches) < 6  # flushed together, not one signal per picture
    pixmap = cache.get((refs[0].pic_key, refs[0].tag, 128))
    assert pixmap is not None
    assert pixmap.devicePixelRatio() == 2.0
    assert max(pixmap.width(), pixmap.height()) == 256  # 128 px tile × 2 device pixels
    assert batches[0][0].pixel_size[1] == 300
    # Already cached: asking again starts nothing.
    started = loader.jobs_started
    loader.request(refs, [], 128, 2.0)
    assert loader.jobs_started == started and loader.is_idle()


def test_newer_request_drops_jobs_that_have_not_started(qtbot: QtBot, setup: Callable[..., Setup]) -> None:
    loader, _, server, _ = setup(pictures=40)
    refs = server.pictures()
    got = collect_ready(loader)
    server.set_latency_ms(150)
    first, second = refs[:12], refs[20:26]
    loader.request(first, [], 96, 1.0)
    loader.request(second, [], 96, 1.0)  # the user scrolled away at once
    qtbot.waitUntil(lambda: {r.ident for r in got} >= {ref.ident for ref in second}, timeout=5000)
    qtbot.waitUntil(loader.is_idle, timeout=3000)
    fetched_first = sum(server.image_gets(ref.pic_key) for ref in first)
    assert fetched_first <= 3  # at most the pool's three running jobs
    assert loader.jobs_dropped >= 2  # the two handed to the pool but not started
    assert all(server.image_gets(ref.pic_key) == 0 for ref in first[5:])


def test_pending_work_is_capped(qtbot: QtBot, setup: Callable[..., Setup]) -> None:
    loader, _, server, _ = setup(pictures=600, resolve=False)
    server.set_latency_ms(200)
    refs = server.pictures()
    loader.request(refs[:10], refs[10:], 96, 1.0)
    assert loader.pending_count() + loader.inflight_count() <= MAX_PENDING
    loader.shutdown()  # with jobs running: cancels them and joins the pool
    assert loader.pool() is None


def test_full_image_and_token_rejection(qtbot: QtBot, setup: Callable[..., Setup]) -> None:
    loader, _, server, _ = setup(pictures=8)
    ref = server.pictures()[1]
    with qtbot.waitSignal(loader.fullImageReady, timeout=5000) as blocker:
        request = loader.request_full(ref)
    full = blocker.args[0]
    assert isinstance(full, FullImage) and full.request_id == request
    assert full.image is not None and (full.image.width(), full.image.height()) == (401, 300)

    # A session without leases must resolve; with a foreign token that is a 20007: pause, don't fail tiles.
    loader2, _, server2, _ = setup(pictures=8, resolve=False)
    server2.set_token("other")
    failures: list[object] = []
    loader2.failed.connect(failures.append)
    with qtbot.waitSignal(loader2.tokenRejected, timeout=5000):
        loader2.request(server2.pictures()[:2], [], 96, 1.0)
    qtbot.wait(100)
    assert failures == []

"""Thumbnail decoding and the ThumbnailLoader's queue discipline, with a real session over the stand-in."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QImageReader, QPixmap
from pytestqt.qtbot import QtBot

from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.cache import ByteBudgetCache
from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.session import LeaseTable, PictureSession, TileBytes
from kdocs_viewer.gui.decode import SHOWN_FORMATS, ImageDecodeError, decode_image
from kdocs_viewer.gui.picture_model import ThumbKey, ThumbnailResult, pixmap_bytes
from kdocs_viewer.gui.retired import retired_count
from kdocs_viewer.gui.thumbnails import (
    DECODE_BACKLOG,
    FETCHERS,
    FETCHERS_WHILE_MOVING,
    MAX_PENDING,
    FullImage,
    ThumbnailLoader,
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


NOT_SHOWN = "not a picture format this viewer can show (it can show JPEG, PNG, GIF, WebP, BMP, TIFF)"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"\x00garbage" * 50, NOT_SHOWN),
        (b"<!DOCTYPE html>\n<html><body>Please sign in</body></html>\n", NOT_SHOWN),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>',
            "this viewer cannot show SVG pictures (it can show JPEG, PNG, GIF, WebP, BMP, TIFF)",
        ),
        (  # the root past a long prolog: the same sniffing rule as saving, not a shorter look of its own
            b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- ' + b"x" * 200 + b' -->\n<svg xmlns="http://www.w3.org/2000/svg"/>',
            "this viewer cannot show SVG pictures (it can show JPEG, PNG, GIF, WebP, BMP, TIFF)",
        ),
        (
            b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64),
            "this viewer cannot show HEIC pictures (it can show JPEG, PNG, GIF, WebP, BMP, TIFF)",
        ),
        (b"GIF89a" + bytes(64), "not a valid image: Unable to read image data"),
    ],
)
def test_decode_errors_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(ImageDecodeError) as caught:
        decode_image(data, 128)
    assert str(caught.value) == reason


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF"])
def test_every_shown_format_decodes_with_a_reader_this_qt_has(fmt: str) -> None:
    """The formats shown are each read by their own reader, which this Qt must have (built in or plugin)."""
    supported = {bytes(name.data()) for name in QImageReader.supportedImageFormats()}
    assert set(SHOWN_FORMATS.values()) <= supported
    out = io.BytesIO()
    Image.new("RGB", (300, 150), "#a52").save(out, fmt)
    decoded = decode_image(out.getvalue(), 64)  # TIFF's reader once outlived its buffer: a crash
    assert (decoded.image.width(), decoded.image.height()) == (64, 32)
    assert decoded.pixel_size == (300, 150)
    assert decoded.image_format == fmt.lower()


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
    loader, _, server, _ = setup(pictures=FETCHERS + 20)
    refs = server.pictures()
    got = collect_ready(loader)
    server.set_latency_ms(150)
    first, second = refs[: FETCHERS + 8], refs[FETCHERS + 10 : FETCHERS + 16]
    loader.request(first, [], 96, 1.0)
    loader.request(second, [], 96, 1.0)  # the user scrolled away at once
    qtbot.waitUntil(lambda: {r.ident for r in got} >= {ref.ident for ref in second}, timeout=5000)
    qtbot.waitUntil(loader.is_idle, timeout=3000)
    fetched_first = sum(server.image_gets(ref.pic_key) for ref in first)
    assert fetched_first <= FETCHERS  # at most the fetches already handed to the fetch stage
    assert all(server.image_gets(ref.pic_key) == 0 for ref in first[FETCHERS:])
    # Each of those was dropped: before its fetch began, or fetched (bytes cached) but never decoded.
    assert loader.jobs_started == FETCHERS + len(second)
    assert loader.jobs_dropped == FETCHERS
    assert loader.decodes_started == len(second)
    assert {r.ident for r in got} == {ref.ident for ref in second}


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


# ------------------------------------------------------------- the two stages, with a fetcher we control
class GatedFetcher:
    """A ``Fetcher`` whose calls for ``held`` keys wait for ``gate`` (or their cancel); others answer at once.

    Counts calls, how many are waiting right now, and the order keys were asked for. Its lease table stays
    empty: the tiles it feeds have no badge.
    """

    def __init__(self, held: set[str] | None = None) -> None:
        self.leases = LeaseTable()
        self.gate = threading.Event()
        self.held = held  # None: every key waits for the gate
        self.data = jpeg_bytes(320, 240)
        self.lock = threading.Lock()
        self.calls: list[str] = []
        self.waiting = 0
        self.returned = 0

    def fetch_tile_head(self, ref: PicRef, box: int, *, cancel: threading.Event | None = None) -> TileBytes:
        data = self.fetch_bytes(ref, cancel=cancel)
        return TileBytes(data, None, len(data))

    def fetch_bytes(self, ref: PicRef, *, cancel: threading.Event | None = None) -> bytes:
        with self.lock:
            self.calls.append(ref.pic_key)
            self.waiting += 1
        try:
            if self.held is None or ref.pic_key in self.held:
                while not self.gate.wait(0.01):
                    if cancel is not None and cancel.is_set():
                        raise RuntimeError("cancelled")
            return self.data
        finally:
            with self.lock:
                self.waiting -= 1
                self.returned += 1


class DecoderBlocker:
    """Occupies a decode thread until ``release`` is set: decode jobs queue up behind it."""

    def __init__(self) -> None:
        self.running = threading.Event()
        self.release = threading.Event()

    def run(self) -> None:
        self.running.set()
        self.release.wait(10)


def fake_refs(count: int) -> list[PicRef]:
    return [PicRef(f"k{index:03d}", "local") for index in range(count)]


@pytest.fixture
def make_loader(qtbot: QtBot) -> Iterator[Callable[..., ThumbnailLoader]]:
    made: list[tuple[ThumbnailLoader, list[DecoderBlocker]]] = []

    def make(
        fetcher: GatedFetcher,
        *,
        blockers: list[DecoderBlocker] | None = None,
        threads: int = 3,
        fetchers: int = FETCHERS,
    ) -> ThumbnailLoader:
        cache: ByteBudgetCache[ThumbKey, QPixmap] = ByteBudgetCache(32 * 1024 * 1024, pixmap_bytes)
        loader = ThumbnailLoader(fetcher, cache, threads=threads, fetchers=fetchers)
        made.append((loader, blockers if blockers is not None else []))
        return loader

    yield make
    for loader, blockers in made:
        for blocker in blockers:
            blocker.release.set()
        loader.shutdown()


def block_decoders(loader: ThumbnailLoader, qtbot: QtBot, count: int) -> list[DecoderBlocker]:
    pool = loader.pool()
    assert pool is not None
    blockers = [DecoderBlocker() for _ in range(count)]
    for blocker in blockers:
        pool.start(blocker.run, 9)
    qtbot.waitUntil(lambda: all(b.running.is_set() for b in blockers), timeout=2000)
    return blockers


def test_fetches_run_ahead_of_the_decoders(qtbot: QtBot, make_loader: Callable[..., ThumbnailLoader]) -> None:
    fetcher = GatedFetcher()
    loader = make_loader(fetcher, threads=2, fetchers=6)
    got = collect_ready(loader)
    refs = fake_refs(20)
    loader.request(refs, [], 64, 1.0)
    # Six GETs wait on the network at once, more than the two decode threads: the stages overlap.
    qtbot.waitUntil(lambda: fetcher.waiting == 6, timeout=2000)
    assert loader.fetching_count() == 6 and loader.pending_count() == 14
    fetcher.gate.set()
    qtbot.waitUntil(lambda: len(got) == 20, timeout=5000)
    qtbot.waitUntil(loader.is_idle, timeout=2000)
    assert sorted(fetcher.calls) == [ref.pic_key for ref in refs]  # each fetched once
    assert loader.jobs_started == 20 and loader.decodes_started == 20 and loader.jobs_dropped == 0


def test_fetch_order_is_visible_first(qtbot: QtBot, make_loader: Callable[..., ThumbnailLoader]) -> None:
    fetcher = GatedFetcher(held=set())
    loader = make_loader(fetcher, fetchers=1)
    got = collect_ready(loader)
    refs = fake_refs(8)
    loader.request(refs[5:], refs[:5], 64, 1.0)
    qtbot.waitUntil(lambda: len(got) == 8, timeout=5000)
    assert fetcher.calls == [ref.pic_key for ref in (*refs[5:], *refs[:5])]


def test_prefetch_waits_until_the_decoders_are_free(
    qtbot: QtBot, make_loader: Callable[..., ThumbnailLoader]
) -> None:
    fetcher = GatedFetcher(held=set())
    blockers: list[DecoderBlocker] = []
    loader = make_loader(fetcher, blockers=blockers, threads=1, fetchers=4)
    blockers += block_decoders(loader, qtbot, 1)
    got = collect_ready(loader)
    refs = fake_refs(8)
    visible, margin = refs[:3], refs[3:]
    loader.request(visible, margin, 64, 1.0)
    qtbot.waitUntil(lambda: loader.fetching_count() == 0 and loader.inflight_count() == 3, timeout=3000)
    # The screen's pictures wait for the decoder; the margin is not fetched meanwhile.
    assert sorted(fetcher.calls) == [ref.pic_key for ref in visible]
    assert loader.pending_count() == len(margin)
    blockers[0].release.set()
    qtbot.waitUntil(lambda: len(got) == 8, timeout=5000)
    assert sorted(fetcher.calls[3:]) == [ref.pic_key for ref in margin]


def test_fetched_but_undecoded_pictures_are_bounded(
    qtbot: QtBot, make_loader: Callable[..., ThumbnailLoader]
) -> None:
    fetcher = GatedFetcher(held=set())  # instant network, so only the cap holds fetching back
    blockers: list[DecoderBlocker] = []
    loader = make_loader(fetcher, blockers=blockers, threads=1, fetchers=4)
    blockers += block_decoders(loader, qtbot, 1)
    got = collect_ready(loader)
    count = DECODE_BACKLOG + 20
    refs = fake_refs(count)
    loader.request(refs, [], 64, 1.0)
    cap = 1 + DECODE_BACKLOG
    qtbot.waitUntil(lambda: loader.fetching_count() == 0 and loader.inflight_count() == cap, timeout=3000)
    # Every fetched picture waits for the one (blocked) decoder; no further fetch starts meanwhile.
    assert len(fetcher.calls) == cap and loader.pending_count() == count - cap and got == []
    blockers[0].release.set()
    qtbot.waitUntil(lambda: len(got) == count, timeout=5000)
    assert sorted(fetcher.calls) == [ref.pic_key for ref in refs]


def test_scrolled_away_pictures_are_not_decoded(
    qtbot: QtBot, make_loader: Callable[..., ThumbnailLoader]
) -> None:
    refs = fake_refs(12)
    first, second = refs[:4], refs[4:7]
    fetcher = GatedFetcher(held={ref.pic_key for ref in first})
    loader = make_loader(fetcher, threads=1, fetchers=6)
    got = collect_ready(loader)
    loader.request(first, [], 64, 1.0)
    qtbot.waitUntil(lambda: fetcher.waiting == 4, timeout=2000)
    loader.request(second, [], 64, 1.0)  # the user scrolled away while the first four were being fetched
    qtbot.waitUntil(lambda: len(got) == 3, timeout=5000)
    assert loader.inflight_count() == 4  # still fetching: a started GET is not abandoned
    fetcher.gate.set()
    qtbot.waitUntil(loader.is_idle, timeout=5000)
    assert {r.ident for r in got} == {ref.ident for ref in second}
    assert loader.decodes_started == 3 and loader.jobs_dropped == 4

    # Fetched, waiting for a decoder, then scrolled away: dropped before decoding, the bytes let go.
    blockers = block_decoders(loader, qtbot, 1)
    third, fourth = refs[7:10], refs[10:]
    loader.request(third, [], 64, 1.0)
    qtbot.waitUntil(lambda: loader.inflight_count() == 3 and loader.fetching_count() == 0, timeout=3000)
    loader.request(fourth, [], 64, 1.0)
    assert loader.jobs_dropped == 4 + 3  # at once: those decode jobs will never run
    blockers[0].release.set()
    qtbot.waitUntil(lambda: len(got) == 5 and loader.is_idle(), timeout=5000)
    assert {r.ident for r in got[3:]} == {ref.ident for ref in fourth}


def test_fewer_heads_at_once_while_the_view_moves_on(
    qtbot: QtBot, make_loader: Callable[..., ThumbnailLoader]
) -> None:
    fetcher = GatedFetcher()  # every GET waits for the gate
    loader = make_loader(fetcher, fetchers=8)
    refs = fake_refs(12)
    before, now = refs[:2], refs[2:]
    loader.request(before, [], 64, 1.0)
    qtbot.waitUntil(lambda: fetcher.waiting == 2, timeout=2000)
    # The view moved on while those two were on their way (a drag): new tiles get fewer heads at once.
    loader.request(now, [], 64, 1.0)
    qtbot.waitUntil(lambda: fetcher.waiting == 2 + FETCHERS_WHILE_MOVING, timeout=2000)
    assert loader.pending_count() == len(now) - FETCHERS_WHILE_MOVING
    # The view stays (the same request again): the whole lane, less the two still on their way.
    loader.request(now, [], 64, 1.0)
    qtbot.waitUntil(lambda: fetcher.waiting == 8, timeout=2000)
    assert loader.pending_count() == len(now) - 6
    fetcher.gate.set()
    qtbot.waitUntil(loader.is_idle, timeout=5000)
    assert sorted(fetcher.calls) == sorted(ref.pic_key for ref in refs)


def test_shutdown_cancels_every_stage(qtbot: QtBot, make_loader: Callable[..., ThumbnailLoader]) -> None:
    refs = fake_refs(6)
    fetcher = GatedFetcher(held={ref.pic_key for ref in refs[3:]})
    loader = make_loader(fetcher, threads=1, fetchers=3)
    blockers = block_decoders(loader, qtbot, 1)
    got = collect_ready(loader)
    fulls: list[FullImage] = []
    loader.fullImageReady.connect(fulls.append)
    loader.request(refs, [], 64, 1.0)
    # Three fetched and queued for the blocked decoder, three GETs held on the network.
    qtbot.waitUntil(lambda: fetcher.waiting == 3 and loader.fetching_count() == 3, timeout=3000)
    qtbot.waitUntil(lambda: loader.inflight_count() == 6, timeout=3000)
    loader.request_full(refs[4])  # a preview waiting on the network too
    qtbot.waitUntil(lambda: fetcher.waiting == 4, timeout=3000)
    blockers[0].release.set()
    loader.shutdown()
    assert loader.pool() is None and loader.is_idle()
    # Held GETs are not waited for (a real one cannot be interrupted); cancelled, these let go soon.
    qtbot.waitUntil(lambda: fetcher.waiting == 0 and fetcher.returned == len(fetcher.calls), timeout=3000)
    qtbot.waitUntil(lambda: retired_count() == 0, timeout=3000)
    QCoreApplication.processEvents()  # whatever the workers emitted before the join
    assert got == [] and fulls == []
    loader.request(refs, [], 64, 1.0)  # after shutdown: nothing starts
    assert len(fetcher.calls) == 7 and loader.jobs_started == 6


def test_small_pictures_keep_one_pixel_per_logical_px_at_2x(qtbot: QtBot) -> None:
    """A 60×40 picture in a 128 px tile at 2×: decoded whole, it is 60×40 logical px, not 30×20."""
    fetcher = GatedFetcher(held=set())
    fetcher.data = jpeg_bytes(60, 40)
    cache: ByteBudgetCache[ThumbKey, QPixmap] = ByteBudgetCache(32 * 1024 * 1024, pixmap_bytes)
    loader = ThumbnailLoader(fetcher, cache)
    try:
        got = collect_ready(loader)
        ref = fake_refs(1)[0]
        loader.request([ref], [], 128, 2.0)
        qtbot.waitUntil(lambda: len(got) == 1, timeout=5000)
        pixmap = cache.get((ref.pic_key, ref.tag, 128))
        assert pixmap is not None
        assert (pixmap.width(), pixmap.height()) == (60, 40)
        assert pixmap.devicePixelRatio() == 1.0
        assert pixmap.deviceIndependentSize().toSize().width() == 60
    finally:
        loader.shutdown()

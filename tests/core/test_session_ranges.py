"""Tiles from the head of the file: PictureSession.fetch_tile_head against the stand-in's Range support.

Every count here comes from the stand-in's request log (status, Range asked, body bytes sent): what went
over the wire, not what the client believes it asked for.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.cache import DiskCache
from kdocs_viewer.core.jpeghead import EOI, GROW_SLACK, HEAD_BYTES, MIN_HEAD_BYTES, TileSource
from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.session import NeedsWhole, PictureSession, TileBytes
from kdocs_viewer.standin.images import camera_exif
from kdocs_viewer.standin.server import StandinServer
from tests.core.test_jpeghead import first_sos_end, scene
from tests.helpers.wire import bytes_over_wire, bytes_sent_twice, picture_gets

# The dataset, by file name (the stand-in serves a folder in name order, one picture per file).
PHOTOS = ("a-photo-1.jpg", "a-photo-2.jpg", "a-photo-3.jpg")
BIG_EXIF = "b-photo-big-exif.jpg"  # a 512 px EXIF thumbnail: a header of ~30 KB
SCREENSHOT = "c-screenshot.png"
PROGRESSIVE = "d-progressive.jpg"
SMALL = "e-small.jpg"  # smaller than any head


def noisy(size: tuple[int, int], seed: int) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ranges")
    for seed, name in enumerate(PHOTOS):
        photo = noisy((1600, 1200), seed)
        photo.save(folder / name, "JPEG", quality=85, exif=camera_exif(photo))
    photo = noisy((1600, 1200), 9)
    photo.save(folder / BIG_EXIF, "JPEG", quality=85, exif=camera_exif(photo, thumb_box=512))
    noisy((600, 400), 10).save(folder / SCREENSHOT, "PNG")
    scene((2400, 1800), 11).save(folder / PROGRESSIVE, "JPEG", quality=85, progressive=True)
    Image.new("RGB", (200, 150), "#3a7").save(folder / SMALL, "JPEG")
    return folder


@pytest.fixture
def shop(
    standin_factory: Callable[..., StandinServer], dataset: Path
) -> Iterator[Callable[..., tuple[StandinServer, PictureSession, dict[str, PicRef]]]]:
    opened: list[tuple[KDocsClient, PictureSession]] = []

    def make(
        session_options: dict[str, object] | None = None, **config: object
    ) -> tuple[StandinServer, PictureSession, dict[str, PicRef]]:
        server = standin_factory(dataset=dataset, pictures=0, **config)
        client = KDocsClient("demo-token", server.base_url)
        session = PictureSession(client, "demo-workbook", **(session_options or {}))  # type: ignore[arg-type]
        opened.append((client, session))
        refs = {Path(server.picture_info(ref.pic_key).source or "").name: ref for ref in server.pictures()}
        session.resolve(list(refs.values()))
        return server, session, refs

    yield make
    for client, session in opened:
        session.close()
        client.close()


def test_a_camera_photos_tile_costs_one_small_ranged_get(shop: Callable[..., tuple]) -> None:
    server, session, refs = shop()
    ref = refs[PHOTOS[0]]
    whole = server.image_bytes(ref.pic_key)
    tile = session.fetch_tile_head(ref, 160)
    assert tile.source is TileSource.EXIF
    assert tile.size == len(whole)
    assert whole.startswith(tile.data) and len(tile.data) < 8 * 1024
    [get] = picture_gets(server, ref.pic_key)
    assert (get.status, get.range, get.body_bytes) == (206, f"bytes=0-{HEAD_BYTES - 1}", HEAD_BYTES)
    # Asking again (the pixmap was evicted, say): the head is kept, no GET.
    assert session.fetch_tile_head(ref, 160) == tile
    assert len(picture_gets(server, ref.pic_key)) == 1
    assert session.stats.head_hits == 1


def test_the_next_photos_heads_are_sized_to_what_the_first_needed(shop: Callable[..., tuple]) -> None:
    server, session, refs = shop()
    for name in PHOTOS:
        assert session.fetch_tile_head(refs[name], 160).source is TileSource.EXIF
    later = [picture_gets(server, refs[name].pic_key) for name in PHOTOS[1:]]
    assert [[(g.status, g.range) for g in gets] for gets in later] == [
        [(206, f"bytes=0-{MIN_HEAD_BYTES - 1}")]
    ] * 2
    # A photo whose header is bigger than that: the head grows once, to the segment's end and a bit.
    big = refs[BIG_EXIF]
    assert session.fetch_tile_head(big, 160).source is TileSource.EXIF
    first, grown = picture_gets(server, big.pic_key)
    assert (first.status, first.range) == (206, f"bytes=0-{MIN_HEAD_BYTES - 1}")
    assert grown.status == 206 and grown.range.startswith(f"bytes={MIN_HEAD_BYTES}-")
    assert bytes_over_wire(server, big.pic_key) <= first_sos_end(server.image_bytes(big.pic_key)) + GROW_SLACK
    assert bytes_sent_twice(server, big.pic_key) == 0


def test_the_whole_photo_later_costs_only_the_rest(shop: Callable[..., tuple]) -> None:
    server, session, refs = shop()
    ref = refs[PHOTOS[0]]
    session.fetch_tile_head(ref, 160)
    assert session.fetch_bytes(ref) == server.image_bytes(ref.pic_key)  # a preview, a save, a copy
    head, rest = picture_gets(server, ref.pic_key)
    assert head.range == f"bytes=0-{HEAD_BYTES - 1}"
    assert (rest.status, rest.range) == (206, f"bytes={HEAD_BYTES}-")
    assert bytes_over_wire(server, ref.pic_key) == len(server.image_bytes(ref.pic_key))
    assert bytes_sent_twice(server, ref.pic_key) == 0
    # Kept as the original: the next tile and the next preview need no GET.
    assert session.fetch_tile_head(ref, 160).source is None
    assert session.fetch_bytes(ref) == server.image_bytes(ref.pic_key)
    assert len(picture_gets(server, ref.pic_key)) == 2


def test_a_tile_the_head_cannot_make_needs_only_the_rest_then_keeps_the_original(
    shop: Callable[..., tuple],
) -> None:
    server, session, refs = shop()
    for name, box in ((PHOTOS[0], 320), (SCREENSHOT, 160)):  # HiDPI: the 160 px thumbnail is too small
        ref = refs[name]
        assert session.fetch_tile_head(ref, box) == NeedsWhole(len(server.image_bytes(ref.pic_key)))
        assert session.fetch_bytes(ref) == server.image_bytes(ref.pic_key)  # only the rest after the head
        assert [g.status for g in picture_gets(server, ref.pic_key)] == [206, 206]
        assert bytes_sent_twice(server, ref.pic_key) == 0
        tile = session.fetch_tile_head(ref, box)
        assert isinstance(tile, TileBytes) and tile.source is None
        assert tile.data == server.image_bytes(ref.pic_key)
        assert len(picture_gets(server, ref.pic_key)) == 2
    stats = session.stats
    assert (stats.image_gets, stats.range_gets, stats.duplicate_gets, stats.refetches) == (4, 4, 0, 0)


def test_a_picture_smaller_than_the_head_comes_whole_in_one_get(shop: Callable[..., tuple]) -> None:
    server, session, refs = shop()
    ref = refs[SMALL]
    tile = session.fetch_tile_head(ref, 160)
    assert tile.source is None and tile.data == server.image_bytes(ref.pic_key)
    [get] = picture_gets(server, ref.pic_key)
    assert get.status == 206 and get.body_bytes == len(tile.data)


def test_a_progressive_jpeg_gives_a_coarse_tile_from_its_first_scans(shop: Callable[..., tuple]) -> None:
    server, session, refs = shop()
    ref = refs[PROGRESSIVE]
    whole = server.image_bytes(ref.pic_key)
    tile = session.fetch_tile_head(ref, 160)  # 2400 px / 8 = 300 ≥ 160: DC coefficients are enough
    assert tile.source is TileSource.COARSE
    assert tile.data.endswith(EOI) and whole.startswith(tile.data[: -len(EOI)])
    assert bytes_over_wire(server, ref.pic_key) < len(whole) // 4
    assert len(picture_gets(server, ref.pic_key)) <= 2  # the head, grown once at most
    assert session.fetch_tile_head(ref, 400) == NeedsWhole(len(whole))  # more than 1/8: the whole file
    assert session.fetch_bytes(ref) == whole
    assert bytes_sent_twice(server, ref.pic_key) == 0


def test_without_range_every_picture_is_one_get_and_kept_whole(shop: Callable[..., tuple]) -> None:
    server, session, refs = shop(honour_range=False)
    for name, ref in refs.items():
        tile = session.fetch_tile_head(ref, 160)
        assert tile.source is None, name
        assert tile.data == server.image_bytes(ref.pic_key)
        assert session.fetch_bytes(ref) == tile.data  # kept as the original
    for ref in refs.values():
        [get] = picture_gets(server, ref.pic_key)
        assert get.status == 200 and get.range.startswith("bytes=0-")
    assert session.stats.duplicate_gets == 0


def test_a_refused_link_is_resolved_again_for_a_head_too(shop: Callable[..., tuple]) -> None:
    server, session, refs = shop()
    ref = refs[PHOTOS[1]]
    server.revoke_url(ref.pic_key)
    assert session.fetch_tile_head(ref, 160).source is TileSource.EXIF
    assert [g.status for g in picture_gets(server, ref.pic_key)] == [403, 206]
    assert session.stats.re_resolves == 1


def test_concurrent_tiles_of_one_picture_share_one_head(shop: Callable[..., tuple]) -> None:
    server, session, refs = shop()
    ref = refs[PHOTOS[2]]
    server.set_latency_ms(100)  # the first GET is still on its way when the others ask
    barrier = threading.Barrier(4)
    sources: list[TileSource | None] = []

    def fetch() -> None:
        barrier.wait()
        sources.append(session.fetch_tile_head(ref, 160).source)

    threads = [threading.Thread(target=fetch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sources == [TileSource.EXIF] * 4
    assert len(picture_gets(server, ref.pic_key)) == 1
    assert session.stats.duplicate_gets == 0


def test_heads_pushed_out_of_memory_wait_on_disk(shop: Callable[..., tuple], tmp_path: Path) -> None:
    disk = DiskCache(tmp_path / "originals")
    # Memory for one first head (32 KiB) or two learnt ones (8 KiB each).
    server, session, refs = shop({"disk_cache": disk, "head_budget": HEAD_BYTES + 64})
    photos = [refs[name] for name in PHOTOS]
    tiles = [session.fetch_tile_head(ref, 160) for ref in photos]
    assert len(disk) == 1  # the first head was pushed out by the next two, to disk
    assert [session.fetch_tile_head(ref, 160) for ref in photos] == tiles  # all back, without a GET
    assert len(disk) == 3  # the first one back in memory pushed the other two out
    assert all(disk.entry("demo-workbook", ref.pic_key) is None for ref in photos)  # heads are not originals
    assert [len(picture_gets(server, ref.pic_key)) for ref in photos] == [1, 1, 1]
    assert session.fetch_bytes(photos[0]) == server.image_bytes(photos[0].pic_key)  # the rest after it
    assert bytes_sent_twice(server, photos[0].pic_key) == 0


def test_a_login_page_instead_of_a_head_is_not_a_picture(shop: Callable[..., tuple]) -> None:
    from kdocs_viewer.core.download import NotAPictureError

    server, session, refs = shop()
    ref = refs[PHOTOS[0]]
    server.queue_image_faults(["html"])  # a captive portal answers 200 with its page, whatever was asked
    with pytest.raises(NotAPictureError):
        session.fetch_tile_head(ref, 160)
    assert session.fetch_tile_head(ref, 160).source is TileSource.EXIF  # nothing of the page was kept


def test_kilobytes_per_tile_of_a_screenful_of_photos(shop: Callable[..., tuple]) -> None:
    """The issue's measure, counted by the server: camera photos cost a few KB each, not megabytes."""
    server, session, refs = shop()
    photos = [refs[name] for name in PHOTOS]
    for ref in photos:
        session.fetch_tile_head(ref, 160)
    sent = [bytes_over_wire(server, ref.pic_key) for ref in photos]
    sizes = [len(server.image_bytes(ref.pic_key)) for ref in photos]
    assert sent[0] == HEAD_BYTES and sent[1:] == [MIN_HEAD_BYTES] * 2
    assert all(s * 5 < size for s, size in zip(sent, sizes, strict=True))

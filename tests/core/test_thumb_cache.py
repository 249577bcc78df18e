"""ThumbnailDiskCache: tiles between sessions — private, atomic, bounded (LRU), checked, clearable."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest

from kdocs_viewer.core.thumb_cache import (
    SUFFIX,
    StoredTile,
    ThumbnailDiskCache,
    TileMeta,
    decode_entry,
    encode_entry,
    tile_key,
)

BASE = "https://developer.kdocs.cn"
CANARY_FILE_TOKEN = "canary-FILETOKEN-91c2-do-not-leak"
CANARY_PIC_KEY = "canary-PICKEY-44d1"


def tile(payload: bytes = b"\xff\xd8 tile bytes \xff\xd9", **meta: object) -> StoredTile:
    fields: dict[str, object] = {"encoding": "jpeg", "image_format": "png", "pixel_size": (1920, 1080),
                                 "byte_count": 281_000}
    fields.update(meta)
    return StoredTile(TileMeta(**fields), payload)  # type: ignore[arg-type]


def key(n: int | str = 1, *, base: str = BASE, tag: str = "attachment", box: int = 160) -> str:
    return tile_key(base, "workbook", f"pic-{n}", tag, box)


def entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(SUFFIX)) if folder.exists() else []


def test_round_trip_keeps_the_tile_and_what_it_says_of_the_original(tmp_path: Path) -> None:
    cache = ThumbnailDiskCache(tmp_path / "thumbs")
    stored = tile(image_format="jpeg", pixel_size=(3000, 4000), byte_count=3_456_789)
    assert cache.put(key(), stored)
    assert cache.get(key()) == stored
    assert cache.get(key(2)) is None


def test_nothing_touches_the_disk_until_the_first_write(tmp_path: Path) -> None:
    folder = tmp_path / "cache" / "thumbs"
    cache = ThumbnailDiskCache(folder)
    assert cache.get(key()) is None
    assert not folder.exists()
    cache.put(key(), tile())
    assert folder.is_dir()


def test_folder_and_files_are_private_even_when_the_folder_existed_open(tmp_path: Path) -> None:
    folder = tmp_path / "thumbs"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    old_umask = os.umask(0o022)
    try:
        cache = ThumbnailDiskCache(folder)
        cache.put(key(), tile())
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    [entry] = entries(folder)
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600


def test_every_key_ingredient_counts_and_none_shows_in_the_name() -> None:
    base = tile_key(BASE, CANARY_FILE_TOKEN, CANARY_PIC_KEY, "attachment", 160)
    variants = {
        tile_key("https://other.example", CANARY_FILE_TOKEN, CANARY_PIC_KEY, "attachment", 160),
        tile_key(BASE, CANARY_FILE_TOKEN + "x", CANARY_PIC_KEY, "attachment", 160),
        tile_key(BASE, CANARY_FILE_TOKEN, CANARY_PIC_KEY + "x", "attachment", 160),
        tile_key(BASE, CANARY_FILE_TOKEN, CANARY_PIC_KEY, "local", 160),
        tile_key(BASE, CANARY_FILE_TOKEN, CANARY_PIC_KEY, "attachment", 320),
        # ingredients that run together differently still differ (each is length-prefixed)
        tile_key(BASE, CANARY_FILE_TOKEN + "a", "ttachment", "", 160),
    }
    assert base not in variants and len(variants) == 6
    assert len(base) == 64 and all(c in "0123456789abcdef" for c in base)
    for secret in (CANARY_FILE_TOKEN, CANARY_PIC_KEY, "developer.kdocs.cn", "attachment"):
        assert secret not in base
    # one server, one name: the base URL is compared in its normal form (models.normalise_base_url)
    same_server = "HTTPS://Developer.KDocs.cn:443/"
    assert tile_key(same_server, CANARY_FILE_TOKEN, CANARY_PIC_KEY, "attachment", 160) == base


def test_files_hold_no_key_ingredient(tmp_path: Path) -> None:
    cache = ThumbnailDiskCache(tmp_path)
    name = tile_key(BASE, CANARY_FILE_TOKEN, CANARY_PIC_KEY, "attachment", 160)
    cache.put(name, tile())
    for path in tmp_path.rglob("*"):
        blob = path.name.encode() + (path.read_bytes() if path.is_file() else b"")
        for secret in (CANARY_FILE_TOKEN, CANARY_PIC_KEY, "developer.kdocs.cn"):
            assert secret.encode() not in blob, path


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: b[: len(b) // 2], id="truncated"),
        pytest.param(lambda b: b[:-1], id="last byte missing"),
        pytest.param(lambda b: b[:-3] + bytes([b[-3] ^ 0x40]) + b[-2:], id="payload byte flipped"),
        pytest.param(lambda b: b[:30] + bytes([b[30] ^ 0x01]) + b[31:], id="header byte flipped"),
        pytest.param(lambda b: b + b"\0", id="trailing byte"),
        pytest.param(lambda b: b"", id="empty (a crash before the write)"),
        pytest.param(lambda b: b"GIF89a" + b[6:], id="foreign file"),
    ],
)
def test_a_damaged_entry_is_a_miss_and_is_removed(tmp_path: Path, damage: object) -> None:
    cache = ThumbnailDiskCache(tmp_path)
    cache.put(key(), tile())
    [path] = entries(tmp_path)
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    assert cache.get(key()) is None
    assert not path.exists()
    assert cache.put(key(), tile()) and cache.get(key()) == tile()  # and stored again next time


def test_an_entry_under_another_name_is_refused(tmp_path: Path) -> None:
    """The checksum is keyed with the entry's name: a tile copied or renamed is no tile of that name."""
    cache = ThumbnailDiskCache(tmp_path)
    cache.put(key(1), tile(b"one"))
    (tmp_path / f"{key(1)}{SUFFIX}").rename(tmp_path / f"{key(2)}{SUFFIX}")
    assert cache.get(key(2)) is None
    assert decode_entry(key(1), encode_entry(key(1), tile(b"one"))) == tile(b"one")


def test_stays_within_its_budget_and_evicts_least_recently_used(tmp_path: Path) -> None:
    entry_size = len(encode_entry(key(0), tile(b"x" * 1000)))
    cache = ThumbnailDiskCache(tmp_path, budget_bytes=10 * entry_size, touch_after=3600.0)
    now = time.time()
    for n in range(10):
        assert cache.put(key(n), tile(b"x" * 1000))
        written = now - 7200 + n  # two hours ago, in order
        os.utime(tmp_path / f"{key(n)}{SUFFIX}", (written, written))
    assert cache.get(key(0)) is not None  # older than touch_after: used now, moves to the front
    for n in range(10, 14):
        assert cache.put(key(n), tile(b"x" * 1000))
        assert cache.total_bytes() <= cache.budget_bytes
    kept = {p.name.removesuffix(SUFFIX) for p in entries(tmp_path)}
    assert key(0) in kept  # read recently
    assert key(1) not in kept and key(2) not in kept  # the least recently used went first
    assert {key(n) for n in range(10, 14)} <= kept
    assert len(kept) <= 10


def test_concurrent_writers_leave_the_folder_within_its_bound(tmp_path: Path) -> None:
    """Writers that store at the same time as an eviction scans are counted too: once every put has
    returned, the folder is within the budget."""
    entry_size = len(encode_entry(key(0), tile(b"c" * 700)))
    cache = ThumbnailDiskCache(tmp_path, budget_bytes=12 * entry_size)
    start = threading.Barrier(4)

    def writer(offset: int) -> None:
        start.wait()
        for n in range(40):
            assert cache.put(key(f"{offset}-{n}"), tile(b"c" * 700))

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    on_disk = sum(path.stat().st_size for path in entries(tmp_path))
    assert 0 < on_disk <= cache.budget_bytes


def test_a_read_touches_a_tile_only_when_it_is_old(tmp_path: Path) -> None:
    cache = ThumbnailDiskCache(tmp_path, touch_after=3600.0)
    cache.put(key(1), tile())
    cache.put(key(2), tile())
    path1, path2 = (tmp_path / f"{key(n)}{SUFFIX}" for n in (1, 2))
    recent, old = time.time() - 60, time.time() - 7200
    os.utime(path1, (recent, recent))
    os.utime(path2, (old, old))
    cache.get(key(1))
    cache.get(key(2))
    assert path1.stat().st_mtime == pytest.approx(recent, abs=1)  # no write for a fresh tile
    assert path2.stat().st_mtime > time.time() - 60


def test_two_processes_share_the_folder_and_its_bound(tmp_path: Path) -> None:
    """Two instances on one folder stand for two processes: each sees the other's tiles, and an eviction
    counts the folder, not only its own writes."""
    entry_size = len(encode_entry(key(0), tile(b"y" * 500)))
    first = ThumbnailDiskCache(tmp_path, budget_bytes=8 * entry_size)
    second = ThumbnailDiskCache(tmp_path, budget_bytes=8 * entry_size)
    for n in range(6):
        first.put(key(n), tile(b"y" * 500))
    assert second.get(key(3)) == tile(b"y" * 500)
    for n in range(6, 12):
        second.put(key(n), tile(b"y" * 500))
    assert first.total_bytes() <= 8 * entry_size


def test_a_tile_larger_than_the_budget_is_not_stored(tmp_path: Path) -> None:
    cache = ThumbnailDiskCache(tmp_path, budget_bytes=100)
    assert not cache.put(key(), tile(b"z" * 200))
    assert entries(tmp_path) == []


def test_clear_removes_everything_and_refuses_writes_begun_before(tmp_path: Path) -> None:
    cache = ThumbnailDiskCache(tmp_path)
    for n in range(5):
        cache.put(key(n), tile())
    began = cache.generation  # a decode worker read this when its work began …
    assert cache.clear() == 5
    assert entries(tmp_path) == [] and cache.get(key(1)) is None
    assert not cache.put(key(7), tile(), generation=began)  # … and its write lands after the clear
    assert entries(tmp_path) == []
    assert cache.put(key(8), tile(), generation=cache.generation)  # work begun after the clear is stored
    assert cache.get(key(8)) == tile()


def test_writes_racing_a_clear_never_outlive_it(tmp_path: Path) -> None:
    """Writers keep storing tiles of a generation read before the clear; once clear() has returned, none
    of them is in the folder and none arrives later."""
    cache = ThumbnailDiskCache(tmp_path)
    began = cache.generation
    stop = threading.Event()
    refused: list[bool] = []

    def writer(offset: int) -> None:
        n = 0
        while not stop.is_set():
            refused.append(not cache.put(key(f"{offset}-{n}"), tile(b"w" * 2000), generation=began))
            n += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    while len(refused) < 20:
        time.sleep(0.001)
    cache.clear()
    left_after_clear = entries(tmp_path)
    deadline = time.monotonic() + 10
    while not any(refused[-5:]) and time.monotonic() < deadline:
        time.sleep(0.001)  # let the writers try a few more after the clear
    stop.set()
    for thread in threads:
        thread.join()
    assert left_after_clear == [] and entries(tmp_path) == []
    assert any(refused)  # writes after the clear were refused, not merely removed


def test_stale_temp_files_of_dead_writers_are_swept(tmp_path: Path) -> None:
    cache = ThumbnailDiskCache(tmp_path)
    cache.put(key(), tile())
    stale, young = tmp_path / ".tmp-dead", tmp_path / ".tmp-busy"
    stale.write_bytes(b"half a tile")
    young.write_bytes(b"a tile being written")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    cache.total_bytes()
    assert not stale.exists() and young.exists()


def test_a_folder_that_cannot_be_made_is_a_quiet_miss(tmp_path: Path) -> None:
    blocker = tmp_path / "file-in-the-way"
    blocker.write_bytes(b"")
    cache = ThumbnailDiskCache(blocker / "thumbs")
    assert cache.put(key(), tile()) is False
    assert cache.get(key()) is None

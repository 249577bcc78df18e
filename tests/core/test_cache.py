"""ByteBudgetCache (memory LRU by bytes) and DiskCache (private, atomic, bounded, forgiving)."""

from __future__ import annotations

import errno
import logging
import os
import stat
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kdocs_viewer.core.cache import ByteBudgetCache, DiskCache, disk_key
from tests.helpers.logfail import ExpectLog

# ---- ByteBudgetCache -------------------------------------------------------------------------------------


def test_lru_eviction_by_bytes() -> None:
    cache: ByteBudgetCache[str, bytes] = ByteBudgetCache(10, len)
    cache.put("a", b"aaaa")
    cache.put("b", b"bbbb")
    assert cache.get("a") == b"aaaa"  # a is now most recent
    cache.put("c", b"cccc")  # 12 > 10: evict the least recent, b
    assert "b" not in cache
    assert cache.get("a") == b"aaaa" and cache.get("c") == b"cccc"
    assert cache.total_bytes == 8 and len(cache) == 2


def test_item_larger_than_budget_is_not_stored_and_drops_the_old_value() -> None:
    cache: ByteBudgetCache[str, bytes] = ByteBudgetCache(10, len)
    cache.put("small", b"x")
    cache.put("k", b"old")
    assert cache.put("k", b"y" * 11) is False
    assert "k" not in cache  # a stale value must not survive a failed replacement
    assert cache.get("small") == b"x"
    assert cache.total_bytes == 1


def test_replace_discard_clear_and_budget_change() -> None:
    cache: ByteBudgetCache[tuple[str, str], bytes] = ByteBudgetCache(100, len)
    key = ("wb", "k1")
    cache.put(key, b"1" * 30)
    cache.put(key, b"2" * 50)
    assert cache.total_bytes == 50 and len(cache) == 1
    cache.put(("wb", "k2"), b"3" * 40)
    cache.set_budget(45)
    assert cache.lru_keys() == [("wb", "k2")]
    cache.discard(("wb", "k2"))
    cache.discard(("wb", "nope"))
    assert cache.total_bytes == 0
    cache.put(key, b"z")
    cache.clear()
    assert len(cache) == 0 and cache.total_bytes == 0 and cache.get(key) is None
    with pytest.raises(ValueError):
        ByteBudgetCache(-1, len)


@given(
    ops=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 40)), max_size=80), budget=st.integers(0, 100)
)
def test_budget_and_accounting_hold_under_any_sequence(ops: list[tuple[int, int]], budget: int) -> None:
    cache: ByteBudgetCache[int, bytes] = ByteBudgetCache(budget, len)
    for key, size in ops:
        cache.put(key, bytes(size))
        assert cache.total_bytes <= budget
        assert cache.total_bytes == sum(len(cache.get(k) or b"") for k in cache.lru_keys())
        if size <= budget:
            assert cache.get(key) == bytes(size)  # the item just put always survives its own eviction


def test_thread_safety_under_contention() -> None:
    cache: ByteBudgetCache[int, bytes] = ByteBudgetCache(5000, len)
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        try:
            for i in range(2000):
                key = (seed * 7 + i) % 50
                if i % 3:
                    cache.put(key, bytes(key * 3))
                else:
                    cache.get(key)
                if i % 97 == 0:
                    cache.discard(key)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert cache.total_bytes <= 5000
    assert cache.total_bytes == sum(len(cache.get(k) or b"") for k in cache.lru_keys())


# ---- DiskCache -------------------------------------------------------------------------------------------


def entry_path(cache: DiskCache, file_token: str, pic_key: str) -> Path:
    return cache.directory / (disk_key(file_token, pic_key) + ".bin")


def test_round_trip_and_plain_files(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "c")
    assert cache.get("wb", "k") is None and cache.entry("wb", "k") is None
    assert cache.put("wb", "k", b"\x89PNG data")
    assert cache.get("wb", "k") == b"\x89PNG data"
    assert cache.get("other-wb", "k") is None  # the file token is part of the key
    entry = cache.entry("wb", "k")
    assert entry is not None and entry.path == entry_path(cache, "wb", "k") and entry.size == 9
    assert entry.path.read_bytes() == b"\x89PNG data"  # as served: a saver can link or copy it
    assert entry.matches(entry.path.stat())


def test_entries_of_an_earlier_run_are_removed_not_trusted(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "c")
    cache.put("wb", "k", b"from the first run")
    again = DiskCache(tmp_path / "c")  # no record of how that file came to be: it is not served
    assert again.get("wb", "k") is None and len(again) == 0
    assert os.listdir(tmp_path / "c") == []


def test_empty_payload_is_a_hit_not_a_miss(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    cache.put("wb", "zero", b"")
    assert cache.get("wb", "zero") == b""


def test_key_is_hashed_and_names_nothing(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    cache.put("secret-workbook", "pic-KEY", b"abc")
    names = os.listdir(tmp_path)
    assert names == [disk_key("secret-workbook", "pic-KEY") + ".bin"]
    assert "secret" not in names[0] and "KEY" not in names[0]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_private_permissions(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)
    cache = DiskCache(directory)
    cache.put("wb", "k", b"x")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(entry_path(cache, "wb", "k").stat().st_mode) == 0o600


def test_budget_evicts_least_recently_used(tmp_path: Path) -> None:
    payload = b"x" * 1000
    cache = DiskCache(tmp_path, budget_bytes=3000)
    for key in "abc":
        cache.put("wb", key, payload)
    assert cache.get("wb", "a") == payload  # a hit makes "a" recent; "b" is now the oldest
    cache.put("wb", "d", payload)
    assert cache.get("wb", "b") is None
    assert cache.entry("wb", "c") is not None  # entry() is a use too: "a" is now the oldest
    cache.put("wb", "e", payload)
    assert {k for k in "abcde" if cache.get("wb", k) is not None} == set("cde")
    assert cache.total_bytes == 3000
    assert len(os.listdir(tmp_path)) == 3


def test_oversize_refused(tmp_path: Path) -> None:
    small = DiskCache(tmp_path, budget_bytes=4000)
    assert small.put("wb", "huge", b"z" * 5000) is False
    assert small.get("wb", "huge") is None
    big_file = tmp_path.parent / f"{tmp_path.name}-big"
    big_file.write_bytes(b"z" * 5000)
    assert small.adopt("wb", "huge", big_file) is False
    assert small.get("wb", "huge") is None and os.listdir(tmp_path) == []


def test_entries_changed_behind_the_cache_are_misses_and_removed(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    for key in ("flip", "cut", "swapped", "gone"):
        cache.put("wb", key, b"original bytes")
    flip = entry_path(cache, "wb", "flip")
    before = flip.stat()
    with open(flip, "r+b") as f:  # same size, same inode: only the modification time tells
        f.write(b"O")
    os.utime(flip, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000))
    cut = entry_path(cache, "wb", "cut")
    cut.write_bytes(cut.read_bytes()[:5])
    swapped = entry_path(cache, "wb", "swapped")
    other = tmp_path / "elsewhere"
    other.write_bytes(b"original bytes")
    os.replace(other, swapped)  # another inode under the entry's name
    entry_path(cache, "wb", "gone").unlink()
    assert cache.get("wb", "flip") is None
    assert cache.entry("wb", "cut") is None
    assert cache.get("wb", "swapped") is None
    assert cache.entry("wb", "gone") is None
    assert os.listdir(tmp_path) == []
    assert cache.total_bytes == 0 and len(cache) == 0


def test_unreadable_entry_is_a_miss(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    cache.put("wb", "k", b"abc")
    path = entry_path(cache, "wb", "k")
    path.unlink()
    path.mkdir()  # open() fails with an OSError even for root
    assert cache.get("wb", "k") is None
    assert len(cache) == 0


def test_stale_temp_files_are_swept_and_never_read(tmp_path: Path) -> None:
    old = tmp_path / ".tmp-crashed"
    old.write_bytes(b"half")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    young = tmp_path / ".tmp-writing-now"
    young.write_bytes(b"in progress")
    cache = DiskCache(tmp_path)
    assert not old.exists()
    assert young.exists()  # may belong to another process writing right now
    assert cache.total_bytes == 0


def test_failed_write_leaves_nothing_behind(tmp_path: Path, expect_log: ExpectLog) -> None:
    cache = DiskCache(tmp_path)
    target = entry_path(cache, "wb", "k")
    target.mkdir()  # os.replace onto a directory fails
    with expect_log("kdocs_viewer.core.cache", logging.WARNING, match=r"^disk cache write failed"):
        assert cache.put("wb", "k", b"abc") is False
    assert sorted(os.listdir(tmp_path)) == [target.name]
    assert len(cache) == 0


def test_discard_and_clear(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    cache.put("wb", "a", b"1")
    cache.put("wb", "b", b"2")
    cache.discard("wb", "a")
    assert cache.get("wb", "a") is None and cache.get("wb", "b") == b"2"
    cache.clear()
    assert os.listdir(tmp_path) == [] and len(cache) == 0


def test_concurrent_writers_of_one_key(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    payloads = [bytes([n]) * 20_000 for n in range(8)]
    threads = [threading.Thread(target=cache.put, args=("wb", "k", p)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.get("wb", "k") in payloads
    assert len(os.listdir(tmp_path)) == 1
    assert cache.total_bytes == entry_path(cache, "wb", "k").stat().st_size


def test_adopt_links_a_saved_file_without_changing_it(tmp_path: Path) -> None:
    saved = tmp_path / "saved.jpg"
    saved.write_bytes(b"\xff\xd8\xff picture")
    os.chmod(saved, 0o644)
    cache = DiskCache(tmp_path / "cache")
    assert cache.adopt("wb", "k", saved)
    assert cache.get("wb", "k") == b"\xff\xd8\xff picture"
    assert saved.read_bytes() == b"\xff\xd8\xff picture" and stat.S_IMODE(saved.stat().st_mode) == 0o644
    assert entry_path(cache, "wb", "k").stat().st_ino == saved.stat().st_ino  # one copy of the bytes
    cache.clear()
    assert saved.read_bytes() == b"\xff\xd8\xff picture"  # clearing drops the cache's name only


def test_an_adopted_file_edited_later_is_not_served(tmp_path: Path) -> None:
    saved = tmp_path / "saved.jpg"
    saved.write_bytes(b"cloud bytes")
    cache = DiskCache(tmp_path / "cache")
    cache.adopt("wb", "k", saved)
    saved.write_bytes(b"the user's edit, longer")  # in place: the cache's link sees it
    assert cache.get("wb", "k") is None
    assert saved.read_bytes() == b"the user's edit, longer"


def test_adopt_copies_when_links_cannot_reach(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = tmp_path / "saved.jpg"
    saved.write_bytes(b"bytes on another file system")
    cache = DiskCache(tmp_path / "cache")

    def cross_device(src: object, dst: object, **kwargs: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)  # a second file system cannot be mounted in a test
    assert cache.adopt("wb", "k", saved)
    path = entry_path(cache, "wb", "k")
    assert path.stat().st_ino != saved.stat().st_ino
    assert cache.get("wb", "k") == b"bytes on another file system"
    if sys.platform != "win32":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert cache.adopt("wb", "missing", tmp_path / "nope") is False
    assert sorted(os.listdir(tmp_path / "cache")) == [path.name]


def test_byte_budget_cache_hands_evicted_items_to_on_evict_but_not_discarded_ones() -> None:
    evicted: list[tuple[str, bytes]] = []
    cache: ByteBudgetCache[str, bytes] = ByteBudgetCache(
        10, len, on_evict=lambda key, value: evicted.append((key, value))
    )
    cache.put("a", b"aaaa")
    cache.put("b", b"bbbb")
    cache.put("c", b"cccc")  # 12 > 10: "a" (least recently used) goes
    assert evicted == [("a", b"aaaa")]
    cache.discard("b")
    cache.set_budget(2)
    assert evicted == [("a", b"aaaa"), ("c", b"cccc")]
    cache.put("d", b"dd")
    cache.clear()
    assert evicted == [("a", b"aaaa"), ("c", b"cccc")]

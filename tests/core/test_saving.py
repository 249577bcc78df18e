"""Saving: names, sanitising, no-clobber atomic writes and batches, on a real folder."""

from __future__ import annotations

import errno
import io
import itertools
import logging
import os
import re
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pathvalidate import validate_filename
from PIL import Image

from kdocs_viewer.core import atomic_save
from kdocs_viewer.core.atomic_save import _claim_part
from kdocs_viewer.core.cache import CachedFile, DiskCache
from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.saving import (
    DEFAULT_TEMPLATE,
    MAX_NAME_BYTES,
    ConflictPolicy,
    NameReserver,
    SaveCancelled,
    SaveProgress,
    is_part_name,
    remove_stale_parts,
    render_name,
    save_atomically,
    save_batch,
    validate_template,
)
from tests.helpers.logfail import ExpectLog
from tests.part_files import StuckWriter, part_files

UNIQUIFY, SKIP, OVERWRITE = ConflictPolicy.UNIQUIFY, ConflictPolicy.SKIP, ConflictPolicy.OVERWRITE
SKIP_IDENTICAL = ConflictPolicy.SKIP_IDENTICAL


def image_bytes(fmt: str, size: tuple[int, int] = (6, 4), color: str = "red") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, fmt)
    return buf.getvalue()


JPEG = image_bytes("JPEG")
PNG = image_bytes("PNG")


def files(folder: Path) -> list[str]:
    """Everything in the folder, hidden part files included."""
    return sorted(os.listdir(folder))


def ref(caption: str | None = None, key: str = "k", cell: str | None = None) -> PicRef:
    return PicRef(key, "attachment", sheet="Sheet1" if cell else None, cell=cell, caption=caption)


# --- templates and names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("", "the name template is empty"),
        ("{index}/{caption}", "must not contain '/'"),
        ("{caption", "a '{' is never closed"),
        ("caption}", "a '}' has no matching '{'"),
        ("{}", "positional field {} is not allowed"),
        ("{0}", "positional field {0} is not allowed"),
        ("{caption.upper}", "{caption.upper}: attribute or index access is not allowed"),
        ("{caption[0]}", "{caption[0]}: attribute or index access is not allowed"),
        ("{captoin}", "unknown field {captoin}; the fields are {index}, {pic_key}, {sheet}, {cell}"),
        ("{caption!r}", "conversions and nested fields are not allowed"),
        ("{index:{width}}", "conversions and nested fields are not allowed"),
        ("{caption:04d}", "{caption:04d}: bad format spec"),
    ],
)
def test_validate_template_rejects_with_a_clear_message(template: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        validate_template(template)


def test_valid_templates() -> None:
    for template in (
        DEFAULT_TEMPLATE,
        "{index:04d}_{pic_key}",
        "{sheet}-{cell} {caption:.20} {tag}",
        "x {{y}}",
    ):
        validate_template(template)


def test_render_fields_and_collapsing() -> None:
    full = PicRef("KEY1", "local", sheet="表1", cell="表1!B7", caption="产品 图\n(正面)")
    bare = PicRef("KEY2", "local")
    assert render_name(DEFAULT_TEMPLATE, full, 7, ".jpg") == "0007 B7 产品 图 (正面).jpg"
    assert render_name(DEFAULT_TEMPLATE, bare, 7, ".jpg") == "0007.jpg"
    assert (
        render_name("{index} - {caption} - {cell}", PicRef("k", "t", cell="S!C3"), 2, ".png") == "2 - C3.png"
    )
    assert render_name("{index}_{sheet}_{cell}", PicRef("k", "t", cell="C3"), 2, "png") == "2_C3.png"
    assert render_name("{caption} ({cell})", PicRef("k", "t", caption="猫"), 1, ".gif") == "猫.gif"
    assert render_name("{sheet} {tag} {pic_key}", full, 1, ".jpg") == "表1 local KEY1.jpg"


def test_name_falls_back_to_pic_key() -> None:
    assert render_name("{caption}", ref(None, key="ravXF"), 1, ".jpg") == "ravXF.jpg"
    assert render_name("{caption}", ref("  ...  ", key="ravXF"), 1, ".jpg") == "ravXF.jpg"
    assert render_name("{caption}", ref("///", key="ravXF"), 1, ".jpg") == "ravXF.jpg"
    assert render_name("{caption}", ref(None, key="???"), 1, ".jpg") == "picture.jpg"


@pytest.mark.parametrize(
    ("caption", "expected"),
    [
        ("CON", "CON_.jpg"),
        ("nul", "nul_.jpg"),
        ("com1", "com1_.jpg"),
        ("LPT9.tar", "LPT9_.tar.jpg"),
        ("aux.", "aux_.jpg"),
        ('a<b>c:d"e/f\\g|h?i*j', "a_b_c_d_e_f_g_h_i_j.jpg"),
        ("name. . ", "name.jpg"),
        (".hidden", "hidden.jpg"),
        ("tab\there\x00bell\x07", "tab herebell.jpg"),
        ("evil\u202egpj.exe", "evilgpj.exe.jpg"),  # no right-to-left override tricks
        ("photo.png", "photo.png.jpg"),  # the extension comes from the bytes, never from the caption
    ],
)
def test_sanitising(caption: str, expected: str) -> None:
    assert render_name("{caption}", ref(caption), 1, ".jpg") == expected


def test_long_cjk_caption_is_capped_at_255_bytes_keeping_the_extension() -> None:
    name = render_name("{index:04d} {caption}", ref("图片说明" * 60), 1, ".jpeg")
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES
    assert name.endswith("图.jpeg")  # whole characters only, extension kept
    assert name.startswith("0001 图片说明")


@settings(max_examples=200, deadline=None)
@given(
    caption=st.none() | st.text(max_size=300),
    key=st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=60),
    ext=st.sampled_from([".jpg", ".webp", ".bin", ".jpeg", ""]),
    template=st.sampled_from([DEFAULT_TEMPLATE, "{caption}", "{pic_key}", "{caption} - {sheet}_{cell}"]),
)
def test_any_input_gives_a_portable_name(caption: str | None, key: str, ext: str, template: str) -> None:
    name = render_name(template, PicRef(key, "t", caption=caption, cell="S!A1"), 3, ext)
    assert name and name.endswith(ext)
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES
    validate_filename(name, platform="universal")
    stem = name[: len(name) - len(ext)]
    assert stem == stem.strip() and not stem.startswith(".") and not stem.endswith(".")


# --- name reservation ---------------------------------------------------------------------------------


def test_reserver_is_case_insensitive_and_sees_existing_files(tmp_path: Path) -> None:
    (tmp_path / "IMAGE.JPG").write_bytes(b"old")
    reserver = NameReserver(tmp_path)
    assert reserver.reserve("image.jpg", UNIQUIFY) == "image (2).jpg"
    assert reserver.reserve("Image (2).jpg", UNIQUIFY) == "Image (2) (2).jpg"
    assert reserver.reserve("image.jpg", SKIP) is None
    assert reserver.reserve("image.jpg", OVERWRITE) == "IMAGE.JPG"  # replaces the file under its own name
    assert reserver.reserve("image.jpg", OVERWRITE) == "image (3).jpg"  # never what this batch claimed


def test_reserver_under_contention(tmp_path: Path) -> None:
    reserver = NameReserver(tmp_path)
    got: list[str | None] = []
    lock = threading.Lock()

    def claim() -> None:
        for _ in range(25):
            name = reserver.reserve("same.png", UNIQUIFY)
            with lock:
                got.append(name)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 200 and len({n.casefold() for n in got if n}) == 200


def test_uniquified_long_names_stay_within_the_cap(tmp_path: Path) -> None:
    name = render_name("{caption}", ref("长" * 200), 1, ".jpg")
    reserver = NameReserver(tmp_path)
    first, second = reserver.reserve(name, UNIQUIFY), reserver.reserve(name, UNIQUIFY)
    assert first == name and second is not None and second.endswith("长 (2).jpg")
    assert len(second.encode()) <= MAX_NAME_BYTES


# --- atomic writes ---------------------------------------------------------------------------------------


def test_save_writes_exact_bytes_and_leaves_no_part(tmp_path: Path) -> None:
    outcome = save_atomically(tmp_path, "a.jpg", JPEG, policy=UNIQUIFY)
    assert outcome.status == "saved" and outcome.path == tmp_path / "a.jpg" and outcome.bytes == len(JPEG)
    assert (tmp_path / "a.jpg").read_bytes() == JPEG
    assert files(tmp_path) == ["a.jpg"]


def test_policies_against_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "a.jpg"
    target.write_bytes(b"precious")
    assert save_atomically(tmp_path, "a.jpg", JPEG, policy=SKIP).status == "skipped"
    assert target.read_bytes() == b"precious"
    uniq = save_atomically(tmp_path, "a.jpg", JPEG, policy=UNIQUIFY)
    assert uniq.path == tmp_path / "a (2).jpg" and target.read_bytes() == b"precious"
    before = os.stat(target).st_ino
    assert save_atomically(tmp_path, "a.jpg", PNG, policy=OVERWRITE).path == target
    assert target.read_bytes() == PNG and os.stat(target).st_ino != before  # a rename, not an in-place write
    assert files(tmp_path) == ["a (2).jpg", "a.jpg"]


def test_file_created_by_someone_else_during_the_write_is_not_clobbered(tmp_path: Path) -> None:
    def chunks_while_another_program_writes(name: str) -> Iterator[bytes]:
        yield JPEG[:10]
        (tmp_path / name).write_bytes(b"theirs")
        yield JPEG[10:]

    outcome = save_atomically(
        tmp_path, "x.jpg", chunks_while_another_program_writes("x.jpg"), policy=UNIQUIFY
    )
    assert outcome.path == tmp_path / "x (2).jpg" and outcome.path.read_bytes() == JPEG
    assert (tmp_path / "x.jpg").read_bytes() == b"theirs"
    skipped = save_atomically(tmp_path, "y.jpg", chunks_while_another_program_writes("y.jpg"), policy=SKIP)
    assert skipped.status == "skipped" and (tmp_path / "y.jpg").read_bytes() == b"theirs"
    assert files(tmp_path) == ["x (2).jpg", "x.jpg", "y.jpg"]


def test_without_hard_links_the_exclusive_fallback_still_never_clobbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: object, dst: object) -> None:  # what FAT/exFAT answer
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    (tmp_path / "a.jpg").write_bytes(b"precious")
    outcome = save_atomically(tmp_path, "a.jpg", iter([JPEG[:5], JPEG[5:]]), policy=UNIQUIFY)
    assert outcome.path == tmp_path / "a (2).jpg" and outcome.path.read_bytes() == JPEG
    assert (tmp_path / "a.jpg").read_bytes() == b"precious"
    assert files(tmp_path) == ["a (2).jpg", "a.jpg"]


def test_a_failing_data_source_leaves_nothing(tmp_path: Path) -> None:
    def broken() -> Iterator[bytes]:
        yield b"\xff\xd8\xff" + b"half a picture"
        raise ConnectionResetError("connection dropped")

    with pytest.raises(ConnectionResetError):
        save_atomically(tmp_path, "a.jpg", broken(), policy=UNIQUIFY)
    assert files(tmp_path) == []
    # The name was released: the next try gets it.
    assert save_atomically(tmp_path, "a.jpg", JPEG, policy=UNIQUIFY).path == tmp_path / "a.jpg"


def test_cancel_mid_write_leaves_nothing(tmp_path: Path) -> None:
    cancel = threading.Event()
    seen_part: list[str] = []

    def cancelled_halfway() -> Iterator[bytes]:
        yield JPEG[:10]
        seen_part.extend(files(tmp_path))
        cancel.set()
        yield JPEG[10:]

    with pytest.raises(SaveCancelled):
        save_atomically(tmp_path, "a.jpg", cancelled_halfway(), policy=OVERWRITE, cancel=cancel)
    assert seen_part == [".a.jpg.kdocs.part"]  # it really was writing a part file
    assert files(tmp_path) == []


def test_a_255_byte_name_saves(tmp_path: Path) -> None:
    name = render_name("{caption}", ref("图" * 200), 1, ".jpg")
    assert len(name.encode()) > 250
    assert save_atomically(tmp_path, name, JPEG, policy=UNIQUIFY).path.read_bytes() == JPEG
    assert save_atomically(tmp_path, name, JPEG, policy=UNIQUIFY).path.name.endswith(" (2).jpg")


# --- batches ------------------------------------------------------------------------------------------


class Source:
    """Bytes per pic_key, recording calls; keys in ``fail`` raise with a URL and a token in the message."""

    def __init__(self, data: dict[str, bytes], fail: frozenset[str] = frozenset()) -> None:
        self.data, self.fail = data, fail
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, ref: PicRef, cancel: threading.Event | None) -> bytes:
        with self.lock:
            self.calls.append(ref.pic_key)
        if ref.pic_key in self.fail:
            raise RuntimeError(
                f"403 for https://img.example/{ref.pic_key}?Expires=1&Sig=abc access_token=tok"
            )
        return self.data[ref.pic_key]


def test_batch_saves_everything_with_exact_bytes_and_extensions_from_bytes(tmp_path: Path) -> None:
    data = {"j": JPEG, "p": PNG, "g": image_bytes("GIF"), "u": b"not an image at all"}
    refs = [PicRef(k, "attachment", caption=f"pic.{k}.png", cell=f"S!A{i}") for i, k in enumerate(data, 1)]
    updates: list[SaveProgress] = []
    summary = save_batch(refs, Source(data), tmp_path, workers=3, progress=updates.append)
    assert [r.status for r in summary.results] == ["saved"] * 4
    names = [r.path.name for r in summary.results if r.path]
    assert names == ["0001 A1 pic.j.png.jpg", "0002 A2 pic.p.png.png", "0003 A3 pic.g.png.gif",
                     "0004 A4 pic.u.png.bin"]  # fmt: skip
    for r, k in zip(summary.results, data, strict=True):
        assert r.path is not None and r.path.read_bytes() == data[k] and r.bytes == len(data[k])
    assert summary.bytes == sum(map(len, data.values()))
    assert updates[-1] == SaveProgress(4, 4, summary.bytes)
    assert all(a.done <= b.done for a, b in itertools.pairwise(updates))
    assert len(files(tmp_path)) == 4


def test_batch_reserves_names_across_the_batch_case_insensitively(tmp_path: Path) -> None:
    refs = [ref("image", "a"), ref("IMAGE", "b"), ref("image", "c"), ref("other", "d")]
    gate = threading.Event()

    def fetch(r: PicRef, cancel: threading.Event | None) -> bytes:
        if r.pic_key == "a":  # the first picture finishes last; its name must not depend on that
            assert gate.wait(5)
        elif r.pic_key == "c":
            gate.set()
        return JPEG

    summary = save_batch(refs, fetch, tmp_path, template="{caption}", workers=4)
    assert [r.path.name for r in summary.results if r.path] == [
        "image.jpg", "IMAGE (2).jpg", "image (3).jpg", "other.jpg"]  # fmt: skip
    assert len(files(tmp_path)) == 4


def test_batch_policies_and_reruns(tmp_path: Path) -> None:
    refs = [ref("image", "a"), ref("image", "b")]
    (tmp_path / "image.jpg").write_bytes(b"precious")
    first = save_batch(refs, Source({"a": JPEG, "b": PNG}), tmp_path, template="{caption}", policy=SKIP)
    assert [(r.status, r.path and r.path.name) for r in first.results] == [
        ("skipped", "image.jpg"), ("saved", "image (2).png")]  # fmt: skip
    assert first.skipped[0].reason == "'image.jpg' already exists"
    assert (tmp_path / "image.jpg").read_bytes() == b"precious"
    rerun = save_batch(refs, Source({"a": JPEG, "b": PNG}), tmp_path, template="{caption}", policy=SKIP)
    assert [r.status for r in rerun.results] == ["skipped", "skipped"]
    uniq = save_batch(refs, Source({"a": JPEG, "b": PNG}), tmp_path, template="{caption}", policy=UNIQUIFY)
    assert [r.path.name for r in uniq.results if r.path] == ["image (2).jpg", "image (3).png"]
    over = save_batch(refs, Source({"a": JPEG, "b": PNG}), tmp_path, template="{caption}", policy=OVERWRITE)
    assert [r.path.name for r in over.results if r.path] == ["image.jpg", "image (2).png"]
    assert (tmp_path / "image.jpg").read_bytes() == JPEG
    assert files(tmp_path) == ["image (2).jpg", "image (2).png", "image (3).png", "image.jpg"]


def test_saving_twice_leaves_one_file_per_picture(tmp_path: Path) -> None:
    """The default policy: a second run finds every picture already there (as "name" or "name (n)")."""
    refs = [ref("image", "a"), ref("image", "b"), ref("other", "c")]
    data = {"a": JPEG, "b": image_bytes("JPEG", color="blue"), "c": PNG}
    first = save_batch(refs, Source(data), tmp_path, template="{caption}")
    assert [r.status for r in first.results] == ["saved"] * 3
    before = {name: (tmp_path / name).stat().st_ino for name in files(tmp_path)}
    assert sorted(before) == ["image (2).jpg", "image.jpg", "other.png"]
    again = save_batch(refs, Source(data), tmp_path, template="{caption}")
    assert [(r.status, r.path and r.path.name) for r in again.results] == [
        ("skipped", "image.jpg"), ("skipped", "image (2).jpg"), ("skipped", "other.png")]  # fmt: skip
    assert again.skipped[0].reason == "already saved as 'image.jpg'"
    assert {name: (tmp_path / name).stat().st_ino for name in files(tmp_path)} == before  # untouched


def test_a_changed_picture_of_the_same_name_is_kept_beside_the_old_one(tmp_path: Path) -> None:
    blue = image_bytes("JPEG", color="blue")
    assert save_batch([ref("cat", "k")], Source({"k": JPEG}), tmp_path, template="{caption}").saved
    changed = save_batch([ref("cat", "k")], Source({"k": blue}), tmp_path, template="{caption}")
    assert [(r.status, r.path and r.path.name) for r in changed.results] == [("saved", "cat (2).jpg")]
    assert (tmp_path / "cat.jpg").read_bytes() == JPEG and (tmp_path / "cat (2).jpg").read_bytes() == blue
    same_size = bytearray(JPEG)
    same_size[-3] ^= 0xFF  # same length, one byte differs: size alone must not decide
    third = save_batch([ref("cat", "k")], Source({"k": bytes(same_size)}), tmp_path, template="{caption}")
    assert [r.path and r.path.name for r in third.results] == ["cat (3).jpg"]
    rerun = save_batch([ref("cat", "k")], Source({"k": blue}), tmp_path, template="{caption}")
    assert [(r.status, r.path and r.path.name) for r in rerun.results] == [("skipped", "cat (2).jpg")]
    assert files(tmp_path) == ["cat (2).jpg", "cat (3).jpg", "cat.jpg"]


def test_a_resumed_save_saves_only_what_the_cancelled_one_did_not(tmp_path: Path) -> None:
    refs = [ref(f"p{i}", f"k{i}") for i in range(6)]
    data = {
        f"k{i}": image_bytes("PNG", color=("red", "green", "blue")[i % 3], size=(4 + i, 4)) for i in range(6)
    }
    stop = threading.Event()
    fetched = Source(data)

    def fetch(r: PicRef, cancel: threading.Event | None) -> bytes:
        if r.pic_key == "k3":
            stop.set()  # Ctrl+C after a few pictures
            raise RuntimeError("interrupted")
        return fetched(r, cancel)

    first = save_batch(refs, fetch, tmp_path, template="{caption}", workers=1, cancel=stop)
    saved_first = len(first.saved)
    assert 0 < saved_first < len(refs)
    resumed = save_batch(refs, Source(data), tmp_path, template="{caption}")
    assert len(resumed.skipped) == saved_first and len(resumed.saved) == len(refs) - saved_first
    assert files(tmp_path) == sorted(f"p{i}.png" for i in range(6))


def test_skip_identical_compares_with_a_cached_file_and_with_a_stream(tmp_path: Path) -> None:
    _, entry = cached(tmp_path, JPEG)
    out = tmp_path / "out"
    out.mkdir()
    (out / "cat.jpg").write_bytes(JPEG)
    summary = save_batch([ref("cat", "k")], lambda r, ev: entry, out, template="{caption}")
    assert [(r.status, r.path and r.path.name) for r in summary.results] == [("skipped", "cat.jpg")]
    streamed = save_atomically(out, "cat.jpg", iter([JPEG[:10], JPEG[10:]]), policy=SKIP_IDENTICAL)
    assert streamed.status == "skipped" and streamed.identical and streamed.path == out / "cat.jpg"
    other = save_atomically(out, "cat.jpg", iter([PNG]), policy=SKIP_IDENTICAL)
    assert other.status == "saved" and other.path == out / "cat (2).jpg" and other.path.read_bytes() == PNG
    assert files(out) == ["cat (2).jpg", "cat.jpg"]  # no part file left by the comparisons


def test_one_failure_never_stops_the_others_and_reasons_hide_urls(tmp_path: Path) -> None:
    refs = [ref(f"p{i}", f"k{i}") for i in range(12)]
    source = Source({f"k{i}": JPEG for i in range(12)} | {"empty": b""}, fail=frozenset({"k3", "k7"}))
    summary = save_batch([*refs, ref("e", "empty")], source, tmp_path, workers=4)
    assert len(summary.saved) == 10 and len(summary.failed) == 3
    reasons = [r.reason or "" for r in summary.failed]
    assert reasons[:2] == ["download failed: 403 for (link hidden) access_token=…"] * 2
    assert reasons[2] == "could not save: the picture is empty (0 bytes)"
    assert not any("img.example" in r or "tok" in r.replace("token", "") for r in reasons)
    assert len(files(tmp_path)) == 10


def test_windows_reserved_and_long_cjk_captions_in_a_batch(tmp_path: Path) -> None:
    long = "金山文档图片说明" * 20
    refs = [ref("CON", "a"), ref("con", "b"), ref(long, "c"), ref(long, "d")]
    summary = save_batch(refs, Source(dict.fromkeys("abcd", JPEG)), tmp_path, template="{caption}")
    names = [r.path.name for r in summary.results if r.path]
    assert names[:2] == ["CON_.jpg", "con_ (2).jpg"]
    assert names[3].endswith(" (2).jpg") and all(len(n.encode()) <= MAX_NAME_BYTES for n in names)
    assert sorted(names) == files(tmp_path)


def test_bad_template_fails_before_any_fetch(tmp_path: Path) -> None:
    source = Source({"k": JPEG})
    with pytest.raises(ValueError, match="unknown field"):
        save_batch([ref("x")], source, tmp_path, template="{nope}")
    assert source.calls == []


def test_cancel_stops_quickly_and_leaves_no_part_files(tmp_path: Path) -> None:
    cancel = threading.Event()
    started = threading.Semaphore(0)
    refs = [ref(f"p{i}", f"k{i}") for i in range(40)]

    def blocking_fetch(r: PicRef, ev: threading.Event | None) -> bytes:
        started.release()
        assert ev is not None and ev.wait(10)  # a fetch that honours cancel
        return JPEG  # ...and still hands back bytes, which must not be written

    def cancel_when_both_workers_are_busy() -> None:
        for _ in range(2):
            assert started.acquire(timeout=5)
        cancel.set()

    helper = threading.Thread(target=cancel_when_both_workers_are_busy)
    helper.start()
    summary = save_batch(refs, blocking_fetch, tmp_path, workers=2, cancel=cancel)
    helper.join()
    assert len(summary.results) == 40
    assert {r.status for r in summary.results} == {"cancelled"}
    assert files(tmp_path) == []


def test_cancel_after_the_download_writes_nothing(tmp_path: Path) -> None:
    cancel = threading.Event()

    def fetch(r: PicRef, ev: threading.Event | None) -> bytes:
        cancel.set()  # cancel arrives as the bytes come back; a cancel mid-write: test_cancel_mid_write_…
        return JPEG

    summary = save_batch([ref("x", "b")], fetch, tmp_path, workers=1, cancel=cancel)
    assert summary.results[0].status == "cancelled"
    assert files(tmp_path) == []


def test_a_failing_progress_callback_winds_down_cleanly(tmp_path: Path) -> None:
    def boom(p: SaveProgress) -> None:
        raise RuntimeError("ui gone")

    with pytest.raises(RuntimeError, match="ui gone"):
        save_batch([ref(f"p{i}", f"k{i}") for i in range(5)], Source(dict.fromkeys(
            [f"k{i}" for i in range(5)], JPEG)), tmp_path, progress=boom)  # fmt: skip
    assert not any(n.endswith(".part") for n in files(tmp_path))


def test_fetching_runs_ahead_of_a_slow_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Downloads must not wait for the disk: with every write stuck in fsync, fetching goes on."""
    disk_free = threading.Event()
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        assert disk_free.wait(10)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync)
    keys = [f"k{i}" for i in range(8)]
    source = Source(dict.fromkeys(keys, JPEG))

    fetched_while_stuck: list[int] = []

    def release_when_fetching_got_ahead() -> None:
        for _ in range(300):
            with source.lock:
                if len(source.calls) >= 3:  # 2 fetch slots; the first pictures are still in fsync
                    break
            threading.Event().wait(0.01)
        with source.lock:
            fetched_while_stuck.append(len(source.calls))
        disk_free.set()

    helper = threading.Thread(target=release_when_fetching_got_ahead)
    helper.start()
    summary = save_batch([ref(k, k) for k in keys], source, tmp_path, workers=2)
    helper.join()
    assert fetched_while_stuck[0] >= 3
    assert [r.status for r in summary.results] == ["saved"] * 8
    assert len(source.calls) == 8


def test_fetches_in_flight_never_exceed_workers(tmp_path: Path) -> None:
    busy = peak = 0
    lock = threading.Lock()

    def fetch(r: PicRef, ev: threading.Event | None) -> bytes:
        nonlocal busy, peak
        with lock:
            busy += 1
            peak = max(peak, busy)
        threading.Event().wait(0.01)
        with lock:
            busy -= 1
        return JPEG

    summary = save_batch([ref(f"p{i}", f"k{i}") for i in range(30)], fetch, tmp_path, workers=3)
    assert len(summary.saved) == 30
    assert 1 <= peak <= 3


def cached(tmp_path: Path, data: bytes, key: str = "k") -> tuple[DiskCache, CachedFile]:
    cache = DiskCache(tmp_path / "cache")
    cache.put("wb", key, data)
    entry = cache.entry("wb", key)
    assert entry is not None
    return cache, entry


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_a_cached_file_is_linked_with_the_modes_of_a_new_file(tmp_path: Path) -> None:
    cache, entry = cached(tmp_path, JPEG)
    out = tmp_path / "out"
    summary = save_batch([ref("cat", "k")], lambda r, ev: entry, out)
    path = summary.results[0].path
    assert summary.results[0].status == "saved" and path is not None and path.name == "0001 cat.jpg"
    assert path.read_bytes() == JPEG and summary.results[0].bytes == len(JPEG)
    assert path.stat().st_ino == entry.path.stat().st_ino  # no second copy of the bytes
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # not the cache's private 0600
    assert files(out) == ["0001 cat.jpg"]
    assert cache.get("wb", "k") == JPEG  # the cache still trusts its entry


def test_two_saves_of_a_cached_file_are_never_one_file(tmp_path: Path) -> None:
    cache, entry = cached(tmp_path, JPEG)
    first = save_batch([ref("a", "k")], lambda r, ev: entry, tmp_path / "one").results[0].path
    second = save_batch([ref("a", "k")], lambda r, ev: entry, tmp_path / "two").results[0].path
    assert first is not None and second is not None
    assert first.stat().st_ino == entry.path.stat().st_ino  # the cache's copy, shared once
    assert second.stat().st_ino != first.stat().st_ino  # then copied: saved pictures stay independent
    assert second.read_bytes() == JPEG
    first.write_bytes(PNG)  # an editor rewriting the first one in place
    assert second.read_bytes() == JPEG
    assert cache.get("wb", "k") is None  # and the cache no longer trusts what it shared


def test_a_cached_file_is_copied_where_links_cannot_reach(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, entry = cached(tmp_path, PNG)

    def cross_device(src: object, dst: object, **kwargs: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    out = tmp_path / "out"
    summary = save_batch([ref("p", "k")], lambda r, ev: entry, out)
    path = summary.results[0].path
    assert path is not None and path.read_bytes() == PNG and path.suffix == ".png"
    assert path.stat().st_ino != entry.path.stat().st_ino
    assert files(out) == [path.name]


def test_a_cached_file_evicted_meanwhile_is_fetched_again(tmp_path: Path) -> None:
    cache, entry = cached(tmp_path, JPEG)
    calls: list[str] = []

    def fetch(r: PicRef, ev: threading.Event | None) -> bytes | CachedFile:
        calls.append(r.pic_key)
        if len(calls) == 1:
            cache.discard("wb", "k")  # evicted between the lookup and the link
            return entry
        return JPEG

    out = tmp_path / "out"
    summary = save_batch([ref("x", "k")], fetch, out)
    assert summary.results[0].status == "saved" and len(calls) == 2
    assert summary.results[0].path is not None and summary.results[0].path.read_bytes() == JPEG
    assert files(out) == ["0001 x.jpg"]


def test_a_cached_file_replaced_meanwhile_is_not_saved(tmp_path: Path) -> None:
    cache, entry = cached(tmp_path, JPEG)
    cache.put("wb", "k", PNG)  # the entry is another file now; the old CachedFile must not be trusted
    summary = save_batch([ref("x", "k")], lambda r, ev: entry, tmp_path / "out")
    result = summary.results[0]
    assert result.status == "failed" and result.reason is not None and "cached copy" in result.reason
    assert files(tmp_path / "out") == []


def test_on_saved_hears_of_downloads_only_and_cannot_fail_a_save(
    tmp_path: Path, expect_log: ExpectLog
) -> None:
    _, entry = cached(tmp_path, PNG, "c")
    heard: list[tuple[str, str]] = []

    def on_saved(r: PicRef, path: Path) -> None:
        heard.append((r.pic_key, path.name))
        raise OSError(errno.EXDEV, "the cache is elsewhere")

    def fetch(r: PicRef, ev: threading.Event | None) -> bytes | CachedFile:
        return entry if r.pic_key == "c" else JPEG

    with expect_log("kdocs_viewer.core.saving", logging.WARNING, match="the cache is elsewhere") as logged:
        summary = save_batch([ref("d", "d"), ref("c", "c")], fetch, tmp_path / "out", on_saved=on_saved)
    assert [r.status for r in summary.results] == ["saved", "saved"]
    assert heard == [("d", "0001 d.jpg")]
    assert len(logged) == 1  # the failing hook is reported, once


# --- part files left behind ---------------------------------------------------------------------------

needs_flock = pytest.mark.skipif(
    sys.platform == "win32", reason="flock: Windows relies on open files instead"
)


@needs_flock
def test_a_live_writers_part_stays_and_the_next_save_removes_it_once_the_writer_is_killed(
    tmp_path: Path,
) -> None:
    with StuckWriter(tmp_path, "a.jpg") as writer:
        assert is_part_name(writer.part.name)
        # Another save meanwhile, of the same name: the part in use is neither removed nor reused.
        outcome = save_atomically(tmp_path, "a.jpg", JPEG, policy=UNIQUIFY)
        assert outcome.path == tmp_path / "a.jpg" and outcome.path.read_bytes() == JPEG
        assert part_files(tmp_path) == [writer.part.name]
        assert remove_stale_parts(tmp_path) == 0
        writer.kill()
    assert part_files(tmp_path) == [writer.part.name]  # what a kill -9 leaves behind
    summary = save_batch([ref("b", "kb")], Source({"kb": PNG}), tmp_path, template="{caption}")
    assert [r.status for r in summary.results] == ["saved"]
    assert files(tmp_path) == ["a.jpg", "b.png"]


@pytest.mark.parametrize("policy", list(ConflictPolicy))
def test_every_policy_removes_stale_part_files_first(tmp_path: Path, policy: ConflictPolicy) -> None:
    for name in (".a.jpg.kdocs.part", ".0007 A7 cat.png.kdocs-3.part"):
        (tmp_path / name).write_bytes(b"left by a crash")  # nobody holds them
    (tmp_path / "a.jpg").write_bytes(b"saved before")  # so that SKIP has something to skip
    summary = save_batch(
        [ref("a", "ka")], Source({"ka": JPEG}), tmp_path, template="{caption}", policy=policy
    )
    expected = {UNIQUIFY: "saved", SKIP: "skipped", OVERWRITE: "saved", SKIP_IDENTICAL: "saved"}[policy]
    assert [r.status for r in summary.results] == [expected]
    assert part_files(tmp_path) == []


def test_save_atomically_on_its_own_removes_stale_part_files(tmp_path: Path) -> None:
    (tmp_path / ".old.jpg.kdocs.part").write_bytes(b"left by a crash")
    save_atomically(tmp_path, "a.jpg", JPEG, policy=UNIQUIFY)
    assert files(tmp_path) == ["a.jpg"]


def test_files_that_are_not_our_part_files_stay(tmp_path: Path) -> None:
    users = [
        "foo.part",
        ".foo.part",
        ".a.jpg.part",
        "a.jpg.kdocs.part",
        ".kdocs.part",
        ".a.jpg.kdocs-0.part",
        ".a.jpg.kdocs-1234.part",
        ".a.jpg.kdocs.part.bak",
        ".a.jpg.kdocs.partial",
    ]
    for name in users:
        assert not is_part_name(name), name
        (tmp_path / name).write_bytes(name.encode())
    (tmp_path / ".a folder.kdocs.part").mkdir()
    (tmp_path / "photo.jpg").write_bytes(b"precious")
    if sys.platform != "win32":
        os.symlink(tmp_path / "photo.jpg", tmp_path / ".a link.kdocs.part")
    before = files(tmp_path)
    assert remove_stale_parts(tmp_path) == 0
    save_batch([ref("b", "kb")], Source({"kb": PNG}), tmp_path, template="{caption}")
    assert files(tmp_path) == sorted([*before, "b.png"])
    for name in users:
        assert (tmp_path / name).read_bytes() == name.encode()
    assert (tmp_path / "photo.jpg").read_bytes() == b"precious"
    assert is_part_name(".a.jpg.kdocs.part") and is_part_name(".a (2).jpg.kdocs-17.part")


@needs_flock
def test_a_part_file_held_locked_by_an_open_file_stays(tmp_path: Path) -> None:
    import fcntl

    held = tmp_path / ".a.jpg.kdocs.part"
    held.write_bytes(b"in use")
    with open(held, "rb") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        save_batch([ref("b", "kb")], Source({"kb": PNG}), tmp_path, template="{caption}")
        assert held.read_bytes() == b"in use"
    assert remove_stale_parts(tmp_path) == 1
    assert files(tmp_path) == ["b.png"]


@pytest.mark.parametrize("locks", ["flock", "granted to every thread"])
def test_a_save_in_flight_is_not_swept_by_another_save_into_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, locks: str
) -> None:
    if locks != "flock":  # as where flock is emulated with per-process locks (NFS): only our own list helps
        monkeypatch.setattr(atomic_save, "_try_lock", lambda fd, *, wait: True)
    writing, go_on = threading.Event(), threading.Event()
    outcomes: list[object] = []

    def slow() -> Iterator[bytes]:
        yield JPEG[:10]
        writing.set()
        assert go_on.wait(10)
        yield JPEG[10:]

    thread = threading.Thread(
        target=lambda: outcomes.append(save_atomically(tmp_path, "a.jpg", slow(), policy=UNIQUIFY))
    )
    thread.start()
    try:
        assert writing.wait(10)
        (part,) = part_files(tmp_path)
        save_batch([ref("b", "kb")], Source({"kb": PNG}), tmp_path, template="{caption}")
        assert part_files(tmp_path) == [part]
    finally:
        go_on.set()
        thread.join(10)
    assert len(outcomes) == 1
    assert (tmp_path / "a.jpg").read_bytes() == JPEG
    assert files(tmp_path) == ["a.jpg", "b.png"]


def test_a_sweep_between_creating_and_locking_a_part_costs_only_the_name(tmp_path: Path) -> None:
    """The one moment a writer's part is not yet locked: a sweep then removes it under its own lock, and
    the writer, once locked, sees the file gone and claims another name instead of writing into nothing."""
    swept: list[int] = []

    def create_then_a_sweep_comes(path: Path) -> int:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        if not swept:
            swept.append(remove_stale_parts(tmp_path))
        return fd

    part = _claim_part(tmp_path, "a.jpg", create_then_a_sweep_comes)
    try:
        assert swept == [1]
        assert part.path.name == ".a.jpg.kdocs-1.part"
        assert part_files(tmp_path) == [part.path.name]
        if sys.platform != "win32":
            assert remove_stale_parts(tmp_path) == 0  # held now
    finally:
        part.discard()
    assert files(tmp_path) == []

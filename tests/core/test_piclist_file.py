"""Reading a pic list file: the size cap, the encodings people's tools write, binary files, the messages."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from kdocs_viewer.core.piclist import (
    MAX_PIC_LIST_BYTES,
    PicFileError,
    parse_pic_list,
    read_pic_list_file,
    read_pic_list_stream,
)


def _error(path: Path, **kwargs: object) -> PicFileError:
    with pytest.raises(PicFileError) as info:
        read_pic_list_file(path, **kwargs)  # type: ignore[arg-type]
    return info.value


def test_read_pic_list_file_limits(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("a b\n" * 100, encoding="utf-8")
    assert _error(big, max_bytes=50).kind == "too_big"
    utf16 = tmp_path / "u16.txt"
    utf16.write_text("abc attachment\n", encoding="utf-16")
    assert read_pic_list_file(utf16) == "abc attachment\n"
    bom = tmp_path / "bom.txt"
    bom.write_bytes("\ufeffabc local".encode())
    assert read_pic_list_file(bom) == "abc local"
    assert _error(tmp_path / "missing.txt").kind == "os"


def test_gb18030_text_is_read_as_chinese(tmp_path: Path) -> None:
    path = tmp_path / "pics.txt"
    path.write_text("# 图片列表\nabc123 attachment\n", encoding="gb18030")
    text = read_pic_list_file(path)
    assert text.startswith("# 图片列表")
    assert [r.ident for r in parse_pic_list(text).pics] == [("abc123", "attachment")]


def test_each_refusal_names_the_file_and_says_what_is_wrong(tmp_path: Path) -> None:
    binary = tmp_path / "picture.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert str(_error(binary)) == "picture.png is not a text file."
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"abc attachment\n\x80\x80\x80 local\n")
    assert str(_error(latin)) == "latin.txt is neither UTF-8, UTF-16 nor GB18030 text."
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:
        handle.truncate(MAX_PIC_LIST_BYTES + 1)  # sparse: nothing written
    assert str(_error(huge)) == "huge.txt is larger than 20 MB: that is not a pic list."
    folder = tmp_path / "folder.json"
    folder.mkdir()
    assert str(_error(folder)) == "Could not read folder.json: Is a directory"
    assert str(_error(binary, name="/some/where/picture.png")).startswith("/some/where/picture.png ")


def test_a_stream_follows_the_same_rules() -> None:
    assert read_pic_list_stream(io.BytesIO("abc 附件\n".encode("gb18030")), "stdin") == "abc 附件\n"
    with pytest.raises(PicFileError) as info:
        read_pic_list_stream(io.BytesIO(b"x" * 11), "standard input", max_bytes=10)
    assert info.value.kind == "too_big" and info.value.limit == 10
    assert str(info.value).startswith("standard input is larger than ")

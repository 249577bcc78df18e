"""core.formats: picture formats by their bytes, and the one rule for "this is not a picture"."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from kdocs_viewer.core.formats import SNIFF_BYTES, not_a_picture, sniff_extension
from kdocs_viewer.standin.app import CAPTIVE_PORTAL_PAGE
from kdocs_viewer.standin.images import corrupt_bytes


def image_bytes(fmt: str, size: tuple[int, int] = (6, 4), mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, "red").save(buf, fmt)
    return buf.getvalue()


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\x00" * 64


SVG = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
    b"<!-- Created with a drawing program, with a comment long enough to push the root past 64 bytes -->\n"
    b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>\n'
)

PICTURES = {
    ".jpg": image_bytes("JPEG"),
    ".png": image_bytes("PNG", mode="RGBA"),
    ".gif": image_bytes("GIF"),
    ".webp": image_bytes("WEBP"),
    ".bmp": image_bytes("BMP"),
    ".tiff": image_bytes("TIFF"),
    ".ico": image_bytes("ICO", (16, 16)),
    ".avif": ftyp(b"avif", b"mif1", b"miaf"),
    ".heic": ftyp(b"heic", b"mif1"),
    ".heif": ftyp(b"mif1", b"miaf"),
    ".svg": SVG,
}


@pytest.mark.parametrize(("ext", "data"), PICTURES.items(), ids=PICTURES)
def test_every_known_format_is_named_and_is_a_picture(ext: str, data: bytes) -> None:
    assert sniff_extension(data[:SNIFF_BYTES]) == ext
    assert not_a_picture(data) is None


def test_sniff_iso_bmff_brands_and_unknown() -> None:
    assert sniff_extension(ftyp(b"mif1", b"avif")) == ".avif"
    assert sniff_extension(ftyp(b"mif1", b"heic")) == ".heic"
    assert sniff_extension(ftyp(b"isom", b"mp41")) is None  # a video has no picture extension
    assert sniff_extension(b"BMW is a car, not a bitmap") is None
    assert sniff_extension(b"<html>403</html>") is None
    assert sniff_extension(b"") is None
    assert sniff_extension(b"<svg:svg xmlns:svg='http://www.w3.org/2000/svg'/>") == ".svg"
    assert sniff_extension(b"\xef\xbb\xbf  <svg/>") == ".svg"
    assert sniff_extension(b"<html><body><svg/></body></html>") is None  # a page that holds a drawing


PAGE = "the server sent an HTML page ({}), not a picture"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (CAPTIVE_PORTAL_PAGE.encode(), "the server sent an HTML page (“Wi-Fi login”), not a picture"),
        (b"<html><body>Please sign in</body></html>", "the server sent an HTML page, not a picture"),
        (b"\n\n<!doctype HTML><p>x", "the server sent an HTML page, not a picture"),
        (b"<!-- portal -->\r\n<HEAD><TITLE>Sign&nbsp;in</TITLE>", PAGE.format("“Sign in”")),
        # A GBK-encoded Chinese login page with a UTF-8 BOM, as some portals send.
        (b"\xef\xbb\xbf<html><head><title>\xb5\xc7\xc2\xbc</title>", PAGE.format("“登录”")),
        ("<html><title>认证</title></html>".encode("utf-16"), PAGE.format("“认证”")),
        (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code></Error>',
         "the server sent an XML document, not a picture"),
        (b'{"code": 403, "msg": "forbidden"}', "the server sent JSON data, not a picture"),
        (b"  [1, 2]\n", "the server sent JSON data, not a picture"),
        (b"Forbidden: URL expired or signature invalid\n", "the server sent text, not a picture"),
        (b"[not json", "the server sent text, not a picture"),
    ],
)  # fmt: skip
def test_text_answers_are_not_pictures_and_say_what_they_are(body: bytes, reason: str) -> None:
    assert not_a_picture(body) == reason


def test_a_title_is_short_and_never_carries_a_signed_link() -> None:
    page = b"<title>see https://cdn.example/img/k?Expires=1&Sig=SECRETSIG and " + b"x" * 200 + b"</title>"
    reason = not_a_picture(page)
    assert reason is not None and "SECRETSIG" not in reason
    assert len(reason) < 120


def test_unknown_binary_and_empty_bytes_are_left_to_the_callers() -> None:
    assert not_a_picture(corrupt_bytes("x", 4096)) is None  # maybe a format we do not know (EMF, JPEG XL…)
    assert not_a_picture(b"\x00\x00\x00\x0cjP  \r\n\x87\n" + b"\x00" * 40) is None  # JPEG 2000
    assert not_a_picture(b"") is None  # "empty" has its own message where it is shown


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_get_an_answer_and_text_is_never_a_picture(data: bytes) -> None:
    reason = not_a_picture(data)
    assert reason is None or reason.endswith("not a picture")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return
    if text.strip() and text.isprintable() and sniff_extension(data) is None:
        assert reason is not None


def test_deeply_nested_text_is_refused_without_a_crash() -> None:
    assert not_a_picture(b"[" * 100_000) == "the server sent text, not a picture"
    assert not_a_picture(json.dumps({"a": [1] * 10}).encode()) == "the server sent JSON data, not a picture"

"""EXIF thumbnails: found in camera JPEGs, refused for anything else, never an exception on odd bytes."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms

from kdocs_viewer.core.exif import embedded_thumbnail, same_aspect
from kdocs_viewer.standin.images import camera_exif


def photo(
    size: tuple[int, int] = (800, 600), exif: bytes | None = b"", icc_profile: bytes | None = None
) -> tuple[bytes, Image.Image]:
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    out = io.BytesIO()
    if exif == b"":
        exif = camera_exif(image)
    extra = {"exif": exif} if exif is not None else {}
    if icc_profile is not None:
        extra["icc_profile"] = icc_profile
    image.save(out, "JPEG", quality=85, **extra)
    return out.getvalue(), image


def test_the_camera_thumbnail_is_found_and_is_a_small_jpeg_of_the_same_picture() -> None:
    data, _ = photo((4000, 3000))
    thumb = embedded_thumbnail(data)
    assert thumb is not None and len(thumb.jpeg) < 20_000
    with Image.open(io.BytesIO(thumb.jpeg)) as image:
        assert image.format == "JPEG" and image.size == (160, 120)
    assert thumb.icc_profile is None  # the photo has none


def test_the_thumbnail_comes_with_the_photos_colour_profile() -> None:
    """A thumbnail has no profile of its own; it is in the photo's colours (a phone's Display P3)."""
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()  # any valid profile will do
    data, _ = photo((4000, 3000), icc_profile=profile)
    thumb = embedded_thumbnail(data)
    assert thumb is not None and thumb.icc_profile == profile


def test_no_thumbnail_without_exif_or_without_ifd1() -> None:
    assert embedded_thumbnail(photo(exif=None)[0]) is None
    only_orientation = Image.Exif()
    only_orientation[0x0112] = 6
    assert embedded_thumbnail(photo(exif=only_orientation.tobytes())[0]) is None


def test_not_a_jpeg_is_no_thumbnail() -> None:
    png = io.BytesIO()
    Image.new("RGB", (10, 10)).save(png, "PNG")
    for data in (b"", b"\xff\xd8", png.getvalue(), b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00garbage"):
        assert embedded_thumbnail(data) is None


def test_a_thumbnail_pointing_outside_the_exif_block_is_refused() -> None:
    exif = bytearray(camera_exif(Image.new("RGB", (400, 300))))
    exif[6 + 8 + 18 + 2 + 12 + 8 : 6 + 8 + 18 + 2 + 12 + 12] = (10**6).to_bytes(4, "little")  # the offset
    assert embedded_thumbnail(photo(exif=bytes(exif))[0]) is None


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_after_a_jpeg_start_never_raise(tail: bytes) -> None:
    result = embedded_thumbnail(b"\xff\xd8\xff\xe1" + tail)
    assert result is None or result.jpeg.startswith(b"\xff\xd8")


def test_same_aspect_allows_rounding_not_padding() -> None:
    assert same_aspect((4000, 3000), (160, 120))
    assert same_aspect((4032, 3024), (160, 120))
    assert same_aspect((1920, 1080), (160, 90))
    assert not same_aspect((1920, 1080), (160, 120))  # 16:9 padded to 4:3
    assert not same_aspect((3000, 4000), (160, 120))  # portrait photo, landscape thumbnail
    assert not same_aspect((0, 10), (160, 120))

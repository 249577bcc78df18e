"""Pictures reach the screen in sRGB and in a format Qt paints as it is.

Qt paints without colour management, so a phone photo in Display P3 or a camera's Adobe RGB photo looked
washed out unless decoding converts it. The reference here is LittleCMS (Pillow's ImageCms), not Qt.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms
from PySide6.QtGui import QColorSpace, QImage

from kdocs_viewer.gui.decode import decode_head, decode_image, for_screen
from kdocs_viewer.standin.images import camera_exif

Named = QColorSpace.NamedColorSpace
SAMPLES = [(40, 200, 60), (200, 60, 40), (30, 90, 220), (128, 128, 128), (250, 240, 20)]


def profile(name: QColorSpace.NamedColorSpace) -> bytes:
    return bytes(QColorSpace(name).iccProfile().data())


def swatches(size: tuple[int, int] = (250, 50)) -> Image.Image:
    """One vertical band per sample colour."""
    image = Image.new("RGB", size)
    band = size[0] // len(SAMPLES)
    for i, colour in enumerate(SAMPLES):
        image.paste(colour, (i * band, 0, (i + 1) * band, size[1]))
    return image


def in_srgb(colour: tuple[int, int, int], icc: bytes) -> tuple[int, int, int]:
    """``colour`` in the space of ``icc``, as LittleCMS puts it in sRGB."""
    source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    pixel = Image.new("RGB", (1, 1), colour)
    converted = ImageCms.profileToProfile(pixel, source, ImageCms.createProfile("sRGB"))
    assert converted is not None
    return converted.getpixel((0, 0))  # type: ignore[return-value]


def band_centres(image: QImage) -> list[tuple[int, int, int]]:
    band = image.width() / len(SAMPLES)
    y = image.height() // 2
    return [image.pixelColor(int((i + 0.5) * band), y).getRgb()[:3] for i in range(len(SAMPLES))]


def close(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int = 4) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def jpeg(image: Image.Image, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=98, subsampling=0, **options)
    return out.getvalue()


@pytest.mark.parametrize("space", [Named.DisplayP3, Named.AdobeRgb], ids=["display-p3", "adobe-rgb"])
@pytest.mark.parametrize("box", [64, None], ids=["tile", "whole"])
def test_a_wide_gamut_jpeg_is_shown_in_srgb(space: QColorSpace.NamedColorSpace, box: int | None) -> None:
    icc = profile(space)
    decoded = decode_image(jpeg(swatches(), icc_profile=icc), box)
    shown = band_centres(decoded.image)
    expected = [in_srgb(colour, icc) for colour in SAMPLES]
    assert all(close(a, b) for a, b in zip(shown, expected, strict=True)), (shown, expected)
    assert shown[0] != SAMPLES[0]  # P3 / Adobe green is not sRGB green: it was converted
    assert decoded.image.format() == QImage.Format.Format_RGB32


def test_a_photo_tile_from_its_exif_thumbnail_gets_the_photos_colours() -> None:
    """The thumbnail has no profile; the photo's (in its head) applies to it too."""
    icc = profile(Named.DisplayP3)
    photo = swatches((2500, 500))
    data = jpeg(photo, icc_profile=icc, exif=camera_exif(photo, thumb_box=320))
    tile = decode_head(data, 160)
    assert tile is not None
    expected = [in_srgb(colour, icc) for colour in SAMPLES]
    shown = band_centres(tile.image)
    assert all(close(a, b, 6) for a, b in zip(shown, expected, strict=True)), (shown, expected)
    assert close(band_centres(decode_image(data, 160).image)[0], expected[0], 6)  # the same as a whole decode


def test_an_srgb_picture_keeps_its_pixels() -> None:
    decoded = decode_image(jpeg(swatches(), icc_profile=profile(Named.SRgb)), None)
    assert all(close(a, b, 2) for a, b in zip(band_centres(decoded.image), SAMPLES, strict=True))
    untagged = decode_image(jpeg(swatches()), None)
    assert all(close(a, b, 2) for a, b in zip(band_centres(untagged.image), SAMPLES, strict=True))


def test_a_png_with_alpha_and_a_profile_is_converted_and_premultiplied() -> None:
    icc = profile(Named.AdobeRgb)
    rgba = swatches().convert("RGBA")
    rgba.putalpha(255)
    rgba.paste((40, 200, 60, 0), (0, 0, 250, 10))  # a transparent strip along the top
    out = io.BytesIO()
    rgba.save(out, "PNG", icc_profile=icc)
    decoded = decode_image(out.getvalue(), None)
    assert decoded.image.format() == QImage.Format.Format_ARGB32_Premultiplied
    assert decoded.image.pixelColor(5, 2).alpha() == 0
    expected = [in_srgb(colour, icc) for colour in SAMPLES]
    assert all(close(a, b) for a, b in zip(band_centres(decoded.image), expected, strict=True))


@pytest.mark.parametrize(
    ("mode", "value"), [("I;16", 30000), ("L", 90), ("P", 3), ("LA", (90, 128)), ("RGBA", (1, 2, 3, 4))]
)
def test_every_kind_of_png_comes_out_in_a_format_painted_as_it_is(mode: str, value: object) -> None:
    out = io.BytesIO()
    Image.new(mode, (40, 30), value).save(out, "PNG")  # type: ignore[arg-type]
    image = decode_image(out.getvalue(), None).image
    assert image.format() in (QImage.Format.Format_RGB32, QImage.Format.Format_ARGB32_Premultiplied)
    assert (image.width(), image.height()) == (40, 30)


def test_a_big_picture_converted_a_strip_at_a_time_matches_qts_conversion_in_one_go() -> None:
    """``for_screen`` converts big pictures in strips (the GIL is free between them): the seams must not
    show. Odd sizes, so the last strip is short."""
    source = QImage(1531, 977, QImage.Format.Format_ARGB32)
    source.fill(0xFF808080)
    for y in range(source.height()):  # every row different: a strip written to the wrong place shows
        for x in range(0, source.width(), 97):
            source.setPixel(x, y, 0xFF000000 | (x * 7 % 256) << 16 | (y % 256) << 8 | (x + y) % 256)
    source.setColorSpace(QColorSpace(Named.DisplayP3))
    whole = source.convertedToColorSpace(QColorSpace(Named.SRgb)).convertToFormat(
        QImage.Format.Format_ARGB32_Premultiplied
    )
    strips = for_screen(QImage(source))
    assert strips.format() == QImage.Format.Format_ARGB32_Premultiplied
    assert not strips.colorSpace().isValid()  # untagged: sRGB
    whole.setColorSpace(QColorSpace())
    assert strips == whole

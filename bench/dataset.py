"""Realistic pictures for the benchmark, generated once and cached on disk.

Phone photos are 4000×3000 JPEGs built from gradients, shapes and Gaussian noise so they compress like real
photos (2–4 MB), with the 160×120 EXIF thumbnail cameras embed; screenshots are flat UI-like 1920×1080
PNGs; a few small pictures stand for icons and pasted clips. The stand-in cycles through the files, so a few
dozen files make any number of pictures. Generation is deterministic (fixed seeds) and skipped when the
folder already holds a complete set.
"""

from __future__ import annotations

import io
import json
import random
from dataclasses import dataclass
from pathlib import Path

from PIL import ExifTags, Image, ImageDraw, ImageFilter

from kdocs_viewer.standin.images import camera_exif

MANIFEST = ".bench-dataset.json"  # not "manifest.json": the stand-in reads that one for tags
_VERSION = 3  # bump when the generator changes, so stale caches are rebuilt (3: EXIF thumbnails)


@dataclass(frozen=True)
class DatasetSpec:
    """How many pictures of each kind, and how big."""

    photos: int
    photo_size: tuple[int, int]
    screenshots: int
    screenshot_size: tuple[int, int]
    small: int

    def key(self) -> str:
        return json.dumps([_VERSION, self.photos, self.photo_size, self.screenshots,
                           self.screenshot_size, self.small])


FULL = DatasetSpec(photos=14, photo_size=(4000, 3000), screenshots=6, screenshot_size=(1920, 1080), small=4)
TINY = DatasetSpec(photos=3, photo_size=(800, 600), screenshots=2, screenshot_size=(640, 360), small=2)


def _photo(seed: int, size: tuple[int, int]) -> Image.Image:
    """Gradient sky + ground, blurred shapes, then sensor-like noise: compresses like a phone photo."""
    rng = random.Random(seed)
    w, h = size
    # Build at quarter size (cheap), upscale smoothly, then add full-resolution noise for the fine detail.
    sw, sh = max(w // 4, 8), max(h // 4, 8)
    top = tuple(rng.randrange(40, 220) for _ in range(3))
    bottom = tuple(rng.randrange(20, 200) for _ in range(3))
    grad = Image.linear_gradient("L").resize((sw, sh))
    base = Image.composite(Image.new("RGB", (sw, sh), bottom), Image.new("RGB", (sw, sh), top), grad)
    draw = ImageDraw.Draw(base)
    for _ in range(rng.randrange(25, 45)):
        x0, y0 = rng.randrange(sw), rng.randrange(sh)
        x1, y1 = x0 + rng.randrange(sw // 20, sw // 3), y0 + rng.randrange(sh // 20, sh // 3)
        color = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=color)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=color)
    base = base.filter(ImageFilter.GaussianBlur(2)).resize((w, h), Image.Resampling.BILINEAR)
    noise = Image.merge("RGB", [Image.effect_noise((w, h), 22) for _ in range(3)])
    return Image.blend(base, noise, rng.uniform(0.2, 0.36))  # more noise = bigger file: 2–4 MB at 12 MP


def _screenshot(seed: int, size: tuple[int, int]) -> Image.Image:
    """Flat panels, a toolbar, text-like lines: what a UI screenshot looks like to PNG."""
    rng = random.Random(seed)
    w, h = size
    img = Image.new("RGB", size, (245, 246, 248))
    draw = ImageDraw.Draw(img)
    accent = tuple(rng.randrange(30, 200) for _ in range(3))
    draw.rectangle((0, 0, w, h // 18), fill=accent)
    draw.rectangle((0, h // 18, w // 6, h), fill=(230, 232, 236))
    for y in range(h // 18 + 20, h - 20, max(h // 40, 6)):
        x = w // 6 + 30
        while x < w - 80:
            word = rng.randrange(20, 90)
            draw.rectangle((x, y, x + word, y + max(h // 120, 2)), fill=(60, 60, 70))
            x += word + rng.randrange(8, 16)
        if rng.random() < 0.1:
            bw = rng.randrange(w // 10, w // 4)
            draw.rectangle((w // 6 + 30, y, w // 6 + 30 + bw, y + h // 14), fill=accent, outline=(0, 0, 0))
    for _ in range(6):
        x, y = rng.randrange(w // 6, w - 50), rng.randrange(h // 18, h - 50)
        draw.text((x, y), "KDocs 12:34", fill=(20, 20, 20))
    # Screenshots usually show a picture or two: a noisy patch makes the PNG weigh what real ones do.
    pw, ph = w // 4, h // 4
    img.paste(_photo(seed + 7, (pw, ph)), (w - pw - 40, h // 18 + 40))
    return img


def _small(seed: int) -> tuple[Image.Image, str]:
    rng = random.Random(seed)
    if seed % 2:
        return _photo(seed, (rng.randrange(160, 400), rng.randrange(120, 300))), "jpg"
    icon = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    ImageDraw.Draw(icon).ellipse((4, 4, 60, 60), fill=(*(rng.randrange(256) for _ in range(3)), 255))
    return icon, "png"


def ensure_dataset(folder: Path, spec: DatasetSpec) -> list[Path]:
    """The dataset's files in ``folder``, generating them first when missing or stale."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / MANIFEST
    if manifest.exists():
        saved = json.loads(manifest.read_text())
        files = [folder / name for name in saved.get("files", [])]
        if saved.get("key") == spec.key() and files and all(f.exists() for f in files):
            return files
    for old in folder.iterdir():
        if old.is_file():
            old.unlink()
    files = []
    for i in range(spec.photos):
        path = folder / f"photo_{i:02d}.jpg"
        photo = _photo(1000 + i, spec.photo_size)
        photo.save(path, "JPEG", quality=92, exif=camera_exif(photo))  # with a 160×120 thumbnail, as phones
        files.append(path)
    for i in range(spec.screenshots):
        path = folder / f"screenshot_{i:02d}.png"
        _screenshot(2000 + i, spec.screenshot_size).save(path, "PNG", optimize=False)
        files.append(path)
    for i in range(spec.small):
        img, ext = _small(3000 + i)
        path = folder / f"small_{i:02d}.{ext}"
        img.save(path)
        files.append(path)
    manifest.write_text(json.dumps({"key": spec.key(), "files": [f.name for f in files]}, indent=1))
    return files


def min_tile_bytes(path: Path, box: int) -> int:
    """The fewest bytes of the file that can make its tile of ``box`` device pixels (the byte floor's part).

    A JPEG whose EXIF thumbnail covers the tile: the file up to the end of the EXIF (APP1) segment that
    holds the thumbnail. Anything else: the whole file. Read from the file itself (markers and Pillow's
    EXIF reader), independently of the product's own rule.
    """
    data = path.read_bytes()
    if not data.startswith(b"\xff\xd8"):
        return len(data)
    pos, exif_end = 2, None
    while pos + 4 <= len(data) and data[pos] == 0xFF and data[pos + 1] not in (0xDA, 0xD9):
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if data[pos + 1] == 0xE1 and data[pos + 4 : pos + 10] == b"Exif\x00\x00":
            exif_end = end
        pos = end
    if exif_end is None:
        return len(data)
    with Image.open(path) as image:
        ifd1 = image.getexif().get_ifd(ExifTags.IFD.IFD1)
    offset, length = ifd1.get(0x0201), ifd1.get(0x0202)
    if not isinstance(offset, int) or not isinstance(length, int):
        return len(data)
    start = data.index(b"Exif\x00\x00") + 6 + offset
    with Image.open(io.BytesIO(data[start : start + length])) as thumb:
        covers = max(thumb.size) >= box
    return exif_end if covers else len(data)


def describe(files: list[Path]) -> dict[str, object]:
    """Counts and sizes for the results file."""
    sizes = [f.stat().st_size for f in files]
    return {
        "files": len(files),
        "total_mb": round(sum(sizes) / 1e6, 2),
        "photo_mb": [round(f.stat().st_size / 1e6, 2) for f in files if f.name.startswith("photo")],
        "screenshot_kb": [round(f.stat().st_size / 1e3) for f in files if f.name.startswith("screenshot")],
        "small_kb": [round(f.stat().st_size / 1e3, 1) for f in files if f.name.startswith("small")],
    }

"""What a grid tile needs of a JPEG: often only its first kilobytes, which an HTTP Range request can fetch.

A phone photo weighs 2–4 MB, yet its tile can come from

- the **EXIF thumbnail** (``core.exif``) that cameras put near the top of the file, in front of the picture
  data: the file up to the end of its first SOS header (where a decoder learns the size and the
  orientation) is all the tile needs, when the thumbnail covers the tile and shows the same picture — the
  rules of ``core.exif`` (``same_aspect``: padded or stale thumbnails are refused);
- the **first scans of a progressive JPEG**: the DC coefficients of every component give the whole picture at
  1/8 of its size, from a few percent of the file. Cut after those scans and closed with an EOI marker, the
  prefix is a valid JPEG that decodes silently; it is used only when the tile is at most 1/8 of the picture,
  where a scaled decode reads nothing but DC coefficients anyway (Qt asks libjpeg for 1/8 scaling then).

``tile_verdict`` reads the bytes fetched so far and says which: ``Enough`` (this prefix makes the tile),
``More`` (fetch up to here, then ask again) or None (only the whole file will do: not a JPEG, no usable
thumbnail, a baseline JPEG, damaged). Qt-free: the GUI decodes what it is told is enough.
"""

from __future__ import annotations

import math
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from enum import Enum

from kdocs_viewer.core.exif import embedded_thumbnail, same_aspect

__all__ = [
    "EOI",
    "HEAD_BYTES",
    "MAX_HEAD_BYTES",
    "MIN_HEAD_BYTES",
    "Enough",
    "HeadSizer",
    "More",
    "TileSource",
    "coarse_covers",
    "jpeg_size",
    "tile_verdict",
]

# The first request while nothing is known of the workbook's photos. Phones write 10–60 KB of EXIF (maker
# notes, the thumbnail at its end): 32 KiB hold most of them in one round trip, and the first screenful's
# heads go out together, so a bigger first guess costs every one of them (8 × 64 KiB are 42 ms of a
# 100 Mbit/s line, 0.2 s of a 20 Mbit/s one). ``HeadSizer`` then fits the size to what the workbook's
# photos needed; a header past the head costs one more request.
HEAD_BYTES = 32 * 1024
MIN_HEAD_BYTES = 8 * 1024
MAX_HEAD_BYTES = 128 * 1024  # an EXIF segment holds at most 64 KB; other segments may follow it
# When a segment runs past the bytes fetched: its end plus room for the small segments that follow it
# (ICC profile, quantisation and Huffman tables, the frame and scan headers: a few KB together).
GROW_SLACK = 16 * 1024
# Estimate of a progressive JPEG's DC scans per 8×8 block, to fetch them in one more request: measured
# 0.33 byte/block on a noisy 12 MP photo (92 KB of 2.0 MB) and 0.51 on random blocks; smoother pictures
# need less. Generous, because falling short costs the rest of the file.
DC_BYTES_PER_BLOCK = 0.75
COARSE_SCALE = 8  # DC coefficients alone: one pixel per 8×8 block
EOI = b"\xff\xd9"

_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_PROGRESSIVE = frozenset({0xC2, 0xC6, 0xCA, 0xCE})
_SOS = 0xDA
_EOI_MARKER = 0xD9
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and RST0–7 carry no length
# Where entropy-coded data ends: 0xFF followed by anything but a stuffed 0x00 or a restart marker.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7]")


class TileSource(Enum):
    """How a head makes the tile."""

    EXIF = "exif"  # the EXIF thumbnail, turned as the photo is
    COARSE = "coarse"  # the DC scans of a progressive JPEG, closed with EOI: a JPEG at 1/8 of the size


@dataclass(frozen=True, slots=True)
class Enough:
    """``data[:end]`` makes the tile (for ``COARSE``, followed by ``EOI``)."""

    end: int
    source: TileSource


@dataclass(frozen=True, slots=True)
class More:
    """Undecided: fetch the file up to offset ``end`` (exclusive), then ask again."""

    end: int


@dataclass(slots=True)
class _Layout:
    width: int = 0
    height: int = 0
    progressive: bool = False
    sampling: dict[int, tuple[int, int]] = field(default_factory=dict)  # component id → (h, v)
    header_end: int | None = None  # end of the first SOS header
    dc_end: int | None = None  # where the scans holding every component's DC end (a marker starts there)
    need: int | None = None  # the walk stopped for lack of bytes: fetch up to here


class HeadSizer:
    """How many bytes to ask for first, learnt from the heads that made tiles. Thread-safe.

    The photos of one workbook mostly come from a few phones, whose EXIF blocks have the same size: after a
    few, the head asked for is the largest header seen lately plus a quarter, in 4 KiB steps, between
    ``MIN_HEAD_BYTES`` and ``MAX_HEAD_BYTES`` — close to the bytes a tile needs, one round trip as a rule.
    A photo with a bigger header costs one more request (``tile_verdict`` says ``More``), and its size is
    learnt too.
    """

    def __init__(self, initial: int = HEAD_BYTES, *, memory: int = 16) -> None:
        self._initial = initial
        self._seen: deque[int] = deque(maxlen=memory)
        self._lock = threading.Lock()

    def size(self) -> int:
        with self._lock:
            if not self._seen:
                return self._initial
            wanted = max(self._seen) * 5 // 4
        steps = -(-wanted // 4096) * 4096
        return max(MIN_HEAD_BYTES, min(MAX_HEAD_BYTES, steps))

    def learn(self, needed: int) -> None:
        """A head of ``needed`` bytes made a tile from its EXIF thumbnail."""
        with self._lock:
            self._seen.append(needed)


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """The (width, height) a JPEG's frame header states, as stored (before EXIF orientation), or None."""
    layout = _walk(data, dc=False)
    if layout is None or not layout.width:
        return None
    return layout.width, layout.height


def coarse_covers(size: tuple[int, int], box: int) -> bool:
    """Whether a decode of a ``size`` picture scaled to fit ``box`` reads only DC coefficients.

    Follows Qt's JPEG reader: it scales the picture to fit the box keeping the aspect ratio
    (``QSize.scaled``), then asks libjpeg for ceil(8 / f) / 8 of the size, f being the smaller shrink
    factor; at f ≥ 8 that is 1/8, made of DC coefficients alone.
    """
    width, height = size
    if min(width, height, box) <= 0:
        return False
    fitted_width = box * width // height
    tall = fitted_width <= box
    fitted = (max(1, fitted_width), box) if tall else (box, max(1, box * height // width))
    return min(width / fitted[0], height / fitted[1]) >= COARSE_SCALE


def tile_verdict(data: bytes, box: int) -> Enough | More | None:
    """Whether ``data`` — the first bytes of a picture — makes a tile of ``box`` device pixels.

    ``Enough``: ``data[:end]`` does, from its EXIF thumbnail or its progressive DC scans (see the module
    text). ``More``: fetch up to ``end`` and ask again. None: the whole file is needed.
    """
    layout = _walk(data, dc=False)
    if layout is None:
        return None
    if layout.need is not None:
        return More(layout.need)
    assert layout.header_end is not None
    size = (layout.width, layout.height)
    if max(size) <= box:
        return None  # the picture itself is tile-sized: the whole (small) file it is
    thumbnail = embedded_thumbnail(data[: layout.header_end])
    thumb_size = jpeg_size(thumbnail.jpeg) if thumbnail is not None else None
    if thumb_size is not None and max(thumb_size) >= box and same_aspect(size, thumb_size):
        return Enough(layout.header_end, TileSource.EXIF)
    if not layout.progressive or not coarse_covers(size, box):
        return None
    layout = _walk(data, dc=True)
    if layout is None:
        return None
    if layout.dc_end is not None:
        return Enough(layout.dc_end, TileSource.COARSE)
    return More(layout.need) if layout.need is not None else None


def _walk(data: bytes, *, dc: bool) -> _Layout | None:
    """Read the markers of ``data`` up to the first SOS header (``dc``: up to the end of the DC scans).

    None when ``data`` is not a JPEG, is damaged, or ends (EOI) before what was asked for.
    """
    if not data.startswith(b"\xff\xd8"):
        return None
    layout = _Layout()
    dc_missing: set[int] | None = None
    pos = 2
    while True:
        if pos + 2 > len(data):
            layout.need = pos + GROW_SLACK
            return layout
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker in (0xD8, _EOI_MARKER):
            return None
        if pos + 4 > len(data):
            layout.need = pos + GROW_SLACK
            return layout
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2:
            return None
        end = pos + 2 + length
        if end > len(data):
            layout.need = end + GROW_SLACK
            return layout
        body = data[pos + 4 : end]
        if marker in _SOF:
            if not _read_frame(body, layout):
                return None
            layout.progressive = marker in _PROGRESSIVE
        elif marker == _SOS:
            if not layout.width:
                return None  # a scan before any frame header
            if layout.header_end is None:
                layout.header_end = end
            if not dc:
                return layout
            if not layout.progressive:
                return None
            scan = _read_scan(body)
            if scan is None:
                return None
            components, spectral_start, approx_high = scan
            if dc_missing is None:
                dc_missing = set(layout.sampling)
            if spectral_start == 0 and approx_high == 0:
                dc_missing -= components
            after = _NEXT_MARKER.search(data, end)
            if after is None:  # the scan goes on past the bytes fetched
                estimate = layout.header_end + math.ceil(_blocks(layout) * DC_BYTES_PER_BLOCK)
                layout.need = max(estimate, len(data) + GROW_SLACK)
                return layout
            pos = after.start()
            if not dc_missing:
                layout.dc_end = pos
                return layout
            continue
        pos = end


def _read_frame(body: bytes, layout: _Layout) -> bool:
    if len(body) < 6:
        return False
    height = int.from_bytes(body[1:3], "big")
    width = int.from_bytes(body[3:5], "big")
    count = body[5]
    if not width or not height or not count or len(body) < 6 + 3 * count:
        return False
    layout.width, layout.height = width, height
    layout.sampling = {}
    for i in range(count):
        ident, factors = body[6 + 3 * i], body[7 + 3 * i]
        h, v = factors >> 4, factors & 0x0F
        if not h or not v:
            return False
        layout.sampling[ident] = (h, v)
    return True


def _read_scan(body: bytes) -> tuple[set[int], int, int] | None:
    """(component ids, spectral start Ss, successive approximation high Ah) of a scan header."""
    if not body:
        return None
    count = body[0]
    if len(body) < 1 + 2 * count + 3:
        return None
    components = {body[1 + 2 * i] for i in range(count)}
    spectral_start = body[1 + 2 * count]
    approx_high = body[3 + 2 * count] >> 4
    return components, spectral_start, approx_high


def _blocks(layout: _Layout) -> int:
    """8×8 blocks of all components together (chroma subsampling counted)."""
    h_max = max(h for h, _ in layout.sampling.values())
    v_max = max(v for _, v in layout.sampling.values())
    total = 0
    for h, v in layout.sampling.values():
        width = math.ceil(layout.width * h / h_max)
        height = math.ceil(layout.height * v / v_max)
        total += math.ceil(width / 8) * math.ceil(height / 8)
    return total

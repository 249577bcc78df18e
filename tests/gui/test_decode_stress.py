"""Decoding never deadlocks against a GUI thread that creates, connects and frees Python-owned QObjects.

A decode worker holds the GIL inside some Qt calls (Shiboken keeps it for const getters such as
``QImageReader.size()``). When such a call takes one of Qt's pooled signal/slot mutexes (Qt's format probing
did: the SVG plugin's probe builds a ``QTextStream``, which connects a signal) while the GUI thread holds
that mutex and waits for the GIL, both wait forever. The GUI thread is in that state whenever a Python-owned
QObject is freed while connected to a signal of a Python-made sender: ``~QObject`` locks the receiver's
mutex, then calls the sender's ``disconnectNotify``, which Shiboken's wrapper runs with the GIL.

Here pictures and non-pictures are decoded on pools (the loader's, and two threads decoding in a loop) while
the GUI thread does that churn the whole time. The senders' ``disconnectNotify`` yields the GIL
(``time.sleep(0)``) as a contended GIL makes it do: that widens the GUI thread's
holding-a-mutex-waiting-for-the-GIL window from nanoseconds to a worker's turn, so a few seconds show what
the whole suite showed once in a few runs.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator

import pytest
from PIL import Image
from PySide6.QtCore import (
    QCoreApplication,
    QMetaMethod,
    QObject,
    QRunnable,
    QThreadPool,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QPixmap
from pytestqt.qtbot import QtBot

from kdocs_viewer.core.cache import ByteBudgetCache
from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.session import LeaseTable, TileBytes
from kdocs_viewer.gui.decode import ImageDecodeError, decode_image
from kdocs_viewer.gui.picture_model import Ident, ThumbKey, ThumbnailResult, pixmap_bytes
from kdocs_viewer.gui.thumbnails import ThumbnailLoader

CHURN_SECONDS = 3.0  # how long the GUI thread churns while pictures decode: the load, not a limit
COPIES = 3  # of each sample per round of requests


def encoded(fmt: str, size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).convert("P" if fmt == "GIF" else "RGB").save(out, fmt)
    return out.getvalue()


SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
    b'<rect width="64" height="64" fill="red"/></svg>\n'
)
HTML = (
    b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head>"
    b"<body><form action='/login'><input name='user'></form></body></html>\n"
)


def samples() -> dict[str, tuple[bytes, tuple[int, int] | None]]:
    """name → (bytes, the picture's size, or None when the bytes are not a picture we show)."""
    return {
        "jpeg": (encoded("JPEG", (640, 480), (200, 40, 40)), (640, 480)),
        "jpeg-small": (encoded("JPEG", (48, 36), (10, 90, 10)), (48, 36)),
        "png": (encoded("PNG", (300, 200), (40, 40, 200)), (300, 200)),
        "gif": (encoded("GIF", (120, 90), (250, 250, 0)), (120, 90)),
        "webp": (encoded("WEBP", (256, 256), (0, 200, 200)), (256, 256)),
        "svg": (SVG, None),
        "svg-bare": (SVG.split(b"\n", 1)[1], None),
        "html": (HTML, None),
        "text": (b"just some text, no picture at all\n" * 20, None),
    }


class MemoryFetcher:
    """Answers from memory: this test is about decoding, not the network. ``name/round.copy`` → ``name``."""

    def __init__(self, data: dict[str, bytes]) -> None:
        self._data = data
        self.leases = LeaseTable()  # no links: the loader reads none

    def fetch_bytes(self, ref: PicRef, *, cancel: threading.Event | None = None) -> bytes:
        return self._data[ref.pic_key.split("/")[0]]

    def fetch_tile_head(self, ref: PicRef, box: int, *, cancel: threading.Event | None = None) -> TileBytes:
        data = self.fetch_bytes(ref, cancel=cancel)  # the whole picture: every tile is decoded in full
        return TileBytes(data, None, len(data))


class Sender(QObject):
    """A long-lived Python-made sender; ``~QObject`` of each receiver calls its ``disconnectNotify``."""

    poked = Signal(int)

    def disconnectNotify(self, signal: QMetaMethod) -> None:
        time.sleep(0)  # let another thread take the GIL, as waiting for a contended GIL does


class Receiver(QObject):
    """Python-owned, created and freed by the thousand."""

    poked = Signal(int)

    @Slot(int)
    def on_poked(self, value: int) -> None:
        pass


class Churner(QObject):
    """Creates, connects, disconnects and frees Python-owned QObjects on the GUI thread, in bursts from a
    zero-interval timer, so the loader's results are delivered in between."""

    def __init__(self, senders: int = 4) -> None:
        super().__init__()
        self.freed = 0
        self._senders = [Sender() for _ in range(senders)]
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._burst)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @Slot()
    def _burst(self) -> None:
        made: list[Receiver] = []
        for index in range(20):
            receiver = Receiver()
            for sender in self._senders:
                sender.poked.connect(receiver.on_poked)
            receiver.poked.connect(lambda value: None)
            receiver.poked.emit(index)
            if index % 2:
                self._senders[0].poked.disconnect(receiver.on_poked)
            made.append(receiver)
        self._senders[0].poked.emit(0)
        self.freed += len(made)
        made.clear()  # freed while still connected: the destructors disconnect


class DecodeLoop(QRunnable):
    """Decodes the samples over and over until stopped, keeping count and noting any wrong outcome."""

    def __init__(self, data: dict[str, tuple[bytes, tuple[int, int] | None]], stop: threading.Event) -> None:
        super().__init__()
        self._data = data
        self._stop = stop
        self.decoded = 0
        self.refused = 0
        self.wrong: list[str] = []

    def run(self) -> None:
        while not self._stop.is_set():
            for name, (payload, size) in self._data.items():
                try:
                    got = decode_image(payload, 64).pixel_size
                except ImageDecodeError:
                    got = None
                if got != size:
                    self.wrong.append(f"{name}: {got}")
                if got is None:
                    self.refused += 1
                else:
                    self.decoded += 1


@pytest.fixture
def loader_and_samples() -> Iterator[tuple[ThumbnailLoader, dict[str, tuple[bytes, tuple[int, int] | None]]]]:
    data = samples()
    fetcher = MemoryFetcher({name: payload for name, (payload, _) in data.items()})
    cache: ByteBudgetCache[ThumbKey, QPixmap] = ByteBudgetCache(64 * 1024 * 1024, pixmap_bytes)
    loader = ThumbnailLoader(fetcher, cache, threads=3, fetchers=3, backlog=12)
    yield loader, data
    loader.shutdown()


def test_decoding_survives_gui_thread_object_churn(
    qtbot: QtBot,
    loader_and_samples: tuple[ThumbnailLoader, dict[str, tuple[bytes, tuple[int, int] | None]]],
) -> None:
    loader, data = loader_and_samples
    ready: dict[Ident, ThumbnailResult] = {}
    failed: dict[Ident, str] = {}
    loader.thumbnailsReady.connect(lambda results: ready.update((r.ident, r) for r in results))
    loader.failed.connect(lambda failures: failed.update(failures))
    churner = Churner()
    asked: list[PicRef] = []
    rounds = 0
    stop = threading.Event()
    pool = QThreadPool()
    loops = [DecodeLoop(data, stop) for _ in range(2)]
    for loop in loops:
        loop.setAutoDelete(False)
        pool.start(loop)
    churner.start()
    try:
        deadline = time.monotonic() + CHURN_SECONDS
        while time.monotonic() < deadline:
            if loader.is_idle():  # new keys each round: decoded again, never served from the cache
                refs = [
                    PicRef(f"{name}/{rounds}.{copy}", "stress") for name in data for copy in range(COPIES)
                ]
                asked.extend(refs)
                loader.request(refs, [], 64, 1.0)
                rounds += 1
            QCoreApplication.processEvents()
        qtbot.waitUntil(loader.is_idle, timeout=10_000)
    finally:
        churner.stop()
        stop.set()
        pool.waitForDone()
    assert rounds >= 2 and churner.freed >= 1000
    assert all(loop.decoded and loop.refused for loop in loops)
    assert [loop.wrong for loop in loops] == [[], []]
    for ref in asked:
        size = data[ref.pic_key.split("/")[0]][1]
        if size is None:
            said = failed.get(ref.ident, "")  # SVG is recognised and named; the rest is no picture at all
            assert said.startswith(("not a picture format", "this viewer cannot show SVG")), ref.pic_key
        else:
            assert ref.ident in ready and ready[ref.ident].pixel_size == size, ref.pic_key

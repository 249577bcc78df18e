"""The thumbnail loader's workers: one job per stage (disk lookup, fetch, decode), the tickets the
loader drops or cancels them by, and what comes back (``JobResult``; ``FullImage`` for previews and copies).
What each stage does and in which pool is told in ``gui.thumbnails``; what a worker may call in Qt, in
``gui.decode``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from kdocs_viewer.core.api import TokenInvalidError
from kdocs_viewer.core.jpeghead import TileSource
from kdocs_viewer.core.models import Lease, PicRef
from kdocs_viewer.core.redact import redact
from kdocs_viewer.core.session import LeaseSource, NeedsWhole, TileBytes
from kdocs_viewer.gui.decode import ImageDecodeError, decode_head, decode_image, set_tile_dpr
from kdocs_viewer.gui.picture_model import ThumbKey, tile_box

if TYPE_CHECKING:
    from kdocs_viewer.gui.tile_store import TileStore

log = logging.getLogger(__name__)


class Fetcher(LeaseSource, Protocol):
    """What the loader needs from a ``PictureSession``: a tile's bytes, the picture's bytes, and its lease
    for the badge."""

    def fetch_bytes(self, ref: PicRef, *, cancel: threading.Event | None = None) -> bytes: ...

    def fetch_tile_head(
        self, ref: PicRef, box: int, *, cancel: threading.Event | None = None
    ) -> TileBytes | NeedsWhole: ...


class ResultKind(Enum):
    OK = "ok"
    FAILED = "failed"
    TOKEN = "token"  # the API rejected the token while re-resolving: not the picture's fault
    CANCELLED = "cancelled"
    NEEDS_WHOLE = "needs-whole"  # the head cannot make the tile: fetch the whole picture


@dataclass(slots=True)
class JobResult:
    ref: PicRef
    bucket: int  # 0 for full images
    request_id: int
    kind: ResultKind
    image: QImage | None = None
    error: str = ""
    byte_count: int = 0
    image_format: str = ""
    pixel_size: tuple[int, int] = (0, 0)
    lease: Lease | None = None


@dataclass(frozen=True, slots=True)
class FullImage:
    """A preview/copy decode: ``image`` is None when ``error`` says why."""

    request_id: int
    ref: PicRef
    image: QImage | None
    error: str
    byte_count: int
    image_format: str
    pixel_size: tuple[int, int]


@dataclass(slots=True)
class Ticket:
    """Shared by the loader (GUI thread) and one job of one stage: drop-before-start, cancel-while-running.

    A decode ticket also carries the fetched bytes (``payload``), released as soon as the job is dropped.
    """

    lock: threading.Lock = field(default_factory=threading.Lock)
    started: bool = False
    dropped: bool = False
    cancel: threading.Event = field(default_factory=threading.Event)
    payload: bytes | None = None
    source: TileSource | None = None  # what the payload is (TileBytes.source): None, the whole picture

    def try_drop(self) -> bool:
        """Drop the job if it has not started; True when it will never run."""
        with self.lock:
            if not self.started:
                self.dropped = True
                self.payload = None
            return self.dropped

    def begin(self) -> bool:
        with self.lock:
            if self.dropped or self.cancel.is_set():
                return False
            self.started = True
            return True


@dataclass(slots=True)
class Fetched:
    """What the fetch stage hands back: the bytes, or the final result when the fetch did not succeed."""

    ticket: Ticket
    result: JobResult  # kind OK: ``data`` is set and the decode stage fills in the image
    data: bytes | None
    source: TileSource | None = None  # a head's (TileBytes.source); None: ``data`` is the whole picture


@dataclass(slots=True)
class LookedUp:
    """What the lookup stage hands back: the tile as a finished result, or None when it is not on disk."""

    ticket: Ticket
    key: ThumbKey
    result: JobResult | None


@dataclass(frozen=True, slots=True)
class TileWrite:
    """Where the decode stage stores a new tile, and the cache generation its work began in."""

    store: TileStore
    generation: int


class JobSignals(QObject):
    """Lives on the GUI thread; workers emit on it, so delivery to the loader's slots is queued."""

    fetched = Signal(object)  # Fetched
    finished = Signal(object)  # JobResult
    looked_up = Signal(object)  # LookedUp


class LookupJob:
    """Stage 0: the tile from the disk cache, decoded at its stored size. No lease, no network."""

    def __init__(
        self,
        signals: JobSignals,
        store: TileStore,
        session: Fetcher,
        ref: PicRef,
        bucket: int,
        dpr: float,
        ticket: Ticket,
    ) -> None:
        self._signals = signals
        self._store = store
        self._session = session
        self._ref = ref
        self._bucket = bucket
        self._dpr = dpr
        self._ticket = ticket

    def run(self) -> None:
        if not self._ticket.begin():
            return
        ref = self._ref
        result: JobResult | None = None
        try:
            tile = self._store.load(ref, tile_box(self._bucket, self._dpr))
        except Exception as exc:  # a miss, never a dead worker
            log.debug("thumbnail cache lookup failed: %s", redact(str(exc)) or type(exc).__name__)
            tile = None
        if tile is not None:
            meta = tile.meta
            set_tile_dpr(tile.image, meta.pixel_size, self._dpr)
            result = JobResult(
                ref,
                self._bucket,
                0,
                ResultKind.OK,
                image=tile.image,
                byte_count=meta.byte_count,
                image_format=meta.image_format,
                pixel_size=meta.pixel_size,
                lease=self._session.leases.get(ref.ident),
            )
        self._signals.looked_up.emit(LookedUp(self._ticket, ref.thumb_key(self._bucket), result))


class FetchJob:
    """Stage 1: what a tile of ``box`` device pixels is decoded from when a head will do (else the result
    is ``NEEDS_WHOLE``), or the whole picture (``box`` None), from the session's caches or the network.
    Runs at normal priority."""

    def __init__(
        self,
        signals: JobSignals,
        session: Fetcher,
        ref: PicRef,
        bucket: int,
        request_id: int,
        ticket: Ticket,
        box: int | None = None,
    ) -> None:
        self._signals = signals
        self._session = session
        self._ref = ref
        self._bucket = bucket
        self._request_id = request_id
        self._ticket = ticket
        self._box = box

    def run(self) -> None:
        if not self._ticket.begin():
            return
        result = JobResult(self._ref, self._bucket, self._request_id, ResultKind.OK)
        cancel = self._ticket.cancel
        data: bytes | None = None
        source: TileSource | None = None
        try:
            if self._box is None:
                data = self._session.fetch_bytes(self._ref, cancel=cancel)
                result.byte_count = len(data)
            else:
                tile = self._session.fetch_tile_head(self._ref, self._box, cancel=cancel)
                if isinstance(tile, NeedsWhole):
                    result.kind = ResultKind.NEEDS_WHOLE
                    result.byte_count = tile.size or 0
                else:
                    data, source = tile.data, tile.source
                    result.byte_count = tile.size if tile.size is not None else len(data)
            if cancel.is_set():
                result.kind = ResultKind.CANCELLED
        except TokenInvalidError:
            result.kind = ResultKind.TOKEN
        except Exception as exc:  # every failure becomes a tile state, never a dead worker
            result.kind = ResultKind.CANCELLED if cancel.is_set() else ResultKind.FAILED
            result.error = redact(str(exc)) or type(exc).__name__
        result.lease = self._session.leases.get(self._ref.ident)  # a 403 may have brought a new one
        ok = result.kind is ResultKind.OK
        self._signals.fetched.emit(
            Fetched(self._ticket, result, data if ok else None, source if ok else None)
        )


class DecodeJob:
    """Stage 2: decode the ticket's bytes to ``box`` (None: whole), and store a new tile when told where.
    Runs at a background priority."""

    def __init__(
        self,
        signals: JobSignals,
        result: JobResult,
        box: int | None,
        dpr: float,
        ticket: Ticket,
        tile_write: TileWrite | None = None,
    ) -> None:
        self._signals = signals
        self._result = result
        self._box = box
        self._dpr = dpr
        self._ticket = ticket
        self._tile_write = tile_write

    def run(self) -> None:
        if not self._ticket.begin():
            return
        result = self._result
        data, self._ticket.payload = self._ticket.payload, None
        try:
            if self._ticket.source is TileSource.EXIF and self._box is not None:
                from_head = decode_head(data or b"", self._box)
                if from_head is None:
                    result.kind = ResultKind.NEEDS_WHOLE
                    self._signals.finished.emit(result)
                    return
                decoded = from_head
            else:  # the whole picture, or a progressive JPEG's first scans: a JPEG of its own
                decoded = decode_image(data or b"", self._box)
            if self._box is None:
                decoded.image.setDevicePixelRatio(1.0)
            else:
                set_tile_dpr(decoded.image, decoded.pixel_size, self._dpr)
            result.image = decoded.image
            result.image_format = decoded.image_format
            result.pixel_size = decoded.pixel_size
        except ImageDecodeError as exc:
            result.kind = ResultKind.FAILED
            result.error = str(exc)
        except Exception as exc:  # never a dead worker
            result.kind = ResultKind.FAILED
            result.error = redact(str(exc)) or type(exc).__name__
        # The store waits until the tile is on its way to the screen; the loader counts this job as
        # running until it is written (``WorkerPool.active``), so an idle loader has no write in flight.
        write, image = self._tile_write, result.image
        stored = None
        if write is not None and self._box is not None and image is not None:
            stored = _TileToStore(
                result.ref,
                self._box,
                QImage(image),
                result.image_format,
                result.pixel_size,
                result.byte_count,
                write,
            )
        self._signals.finished.emit(result)
        if stored is not None:
            stored.save()


@dataclass(frozen=True, slots=True)
class _TileToStore:
    """A decoded tile to write to the disk cache, taken before its result went to the GUI thread: the image
    is a copy of its own (a QImage shares its pixels), the result's is read by that thread."""

    ref: PicRef
    box: int
    image: QImage
    image_format: str
    pixel_size: tuple[int, int]
    byte_count: int
    write: TileWrite

    def save(self) -> None:
        try:
            self.write.store.save(
                self.ref,
                self.box,
                self.image,
                image_format=self.image_format,
                pixel_size=self.pixel_size,
                byte_count=self.byte_count,
                generation=self.write.generation,
            )
        except Exception as exc:  # the tile is shown anyway; storing it is a bonus
            log.debug("thumbnail cache write failed: %s", redact(str(exc)) or type(exc).__name__)

"""Thumbnails decoded small and off the GUI thread, only for what the user can see.

``ThumbnailLoader`` keeps its own priority queue on the GUI thread (visible rows first, then the prefetch
margin) and feeds a private ``QThreadPool`` only a few jobs at a time, so when the user scrolls away the
queue is simply replaced: stale work never starts, and a job handed to the pool but not yet started is
dropped through its ticket. Each job calls ``session.fetch_bytes`` (memory/disk cache, one GET, one
re-resolve on 403/410) and decodes with ``QImageReader`` straight to the tile size (JPEG DCT downscale,
EXIF rotation). Workers return ``QImage``; the GUI thread only turns them into ``QPixmap`` — in batches,
every ~40 ms, so the model sees one ``dataChanged`` per run of rows, not one per picture.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from PySide6.QtCore import (
    QBuffer,
    QCoreApplication,
    QIODevice,
    QObject,
    QRunnable,
    QSize,
    Qt,
    QThread,
    QThreadPool,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QImage, QImageIOHandler, QImageReader, QPixmap
from shiboken6 import Shiboken

from kdocs_viewer.core.api import TokenInvalidError
from kdocs_viewer.core.cache import ByteBudgetCache
from kdocs_viewer.core.models import Lease, PicRef
from kdocs_viewer.core.redact import redact
from kdocs_viewer.gui.picture_model import Ident, ThumbKey, ThumbnailResult

log = logging.getLogger(__name__)

FLUSH_MS = 40  # results reach the model in batches at most this often
MAX_PENDING = 256  # wanted-but-not-started jobs kept; beyond that the far prefetch is not queued
FULL_MAX_SIDE = 8192  # previews/copies larger than this are decoded down to it (memory, allocation limit)


class Fetcher(Protocol):
    """What the loader needs from a ``PictureSession``."""

    def fetch_bytes(self, ref: PicRef, *, cancel: threading.Event | None = None) -> bytes: ...


class ImageDecodeError(Exception):
    """Bytes that are not a picture; the text is for people."""


@dataclass(frozen=True, slots=True)
class DecodedImage:
    image: QImage
    image_format: str
    pixel_size: tuple[int, int]  # of the original, after EXIF rotation


def decode_image(data: bytes, box: int | None) -> DecodedImage:
    """Decode ``data`` to fit a ``box``×``box`` square (keeping aspect; never enlarging), or whole when None.

    Decoding to the target size lets the JPEG decoder skip most of the work (DCT scaling); EXIF orientation
    is applied. Raises ImageDecodeError("empty file" / "not a valid image: …").
    """
    if not data:
        raise ImageDecodeError(QCoreApplication.translate("ThumbnailLoader", "empty file"))
    buffer = QBuffer()
    buffer.setData(data)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)
    reader.setAllocationLimit(1024)  # MB; the default 256 rejects big but legitimate photos
    image_format = bytes(reader.format().data()).decode("ascii", "replace")
    original = reader.size()
    limit = box if box is not None else FULL_MAX_SIDE
    if original.isValid() and (original.width() > limit or original.height() > limit):
        reader.setScaledSize(original.scaled(QSize(limit, limit), Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        reason = QCoreApplication.translate("ThumbnailLoader", "not a valid image: %1")
        raise ImageDecodeError(reason.replace("%1", reader.errorString()))
    if original.isValid():
        w, h = original.width(), original.height()
        if reader.transformation() & QImageIOHandler.Transformation.TransformationRotate90:
            w, h = h, w
    else:
        w, h = image.width(), image.height()
    if not original.isValid() and max(image.width(), image.height()) > limit:
        image = image.scaled(
            limit, limit, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
    return DecodedImage(image, image_format or "?", (w, h))


class ResultKind(Enum):
    OK = "ok"
    FAILED = "failed"
    TOKEN = "token"  # the API rejected the token while re-resolving: not the picture's fault
    CANCELLED = "cancelled"


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


@dataclass(slots=True)
class _Ticket:
    """Shared between the loader (GUI thread) and one job: drop-before-start and cancel-while-running."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    started: bool = False
    dropped: bool = False
    cancel: threading.Event = field(default_factory=threading.Event)

    def try_drop(self) -> bool:
        """Drop the job if it has not started; True when it will never run."""
        with self.lock:
            if not self.started:
                self.dropped = True
            return self.dropped

    def begin(self) -> bool:
        with self.lock:
            if self.dropped or self.cancel.is_set():
                return False
            self.started = True
            return True


class _Signals(QObject):
    """Lives on the GUI thread; workers emit on it, so delivery to the loader's slots is queued."""

    finished = Signal(object)


class _ImageJob(QRunnable):
    def __init__(
        self,
        signals: _Signals,
        session: Fetcher,
        ref: PicRef,
        box: int | None,
        bucket: int,
        dpr: float,
        request_id: int,
        ticket: _Ticket,
    ) -> None:
        super().__init__()
        self._signals = signals
        self._session = session
        self._ref = ref
        self._box = box
        self._bucket = bucket
        self._dpr = dpr
        self._request_id = request_id
        self._ticket = ticket

    def run(self) -> None:
        if not self._ticket.begin():
            return
        result = JobResult(self._ref, self._bucket, self._request_id, ResultKind.OK)
        cancel = self._ticket.cancel
        try:
            data = self._session.fetch_bytes(self._ref, cancel=cancel)
            result.byte_count = len(data)
            if cancel.is_set():
                result.kind = ResultKind.CANCELLED
            else:
                decoded = decode_image(data, self._box)
                decoded.image.setDevicePixelRatio(self._dpr if self._box is not None else 1.0)
                result.image = decoded.image
                result.image_format = decoded.image_format
                result.pixel_size = decoded.pixel_size
        except TokenInvalidError:
            result.kind = ResultKind.TOKEN
        except ImageDecodeError as exc:
            result.kind = ResultKind.FAILED
            result.error = str(exc)
        except Exception as exc:  # every failure becomes a tile state, never a dead worker
            result.kind = ResultKind.CANCELLED if cancel.is_set() else ResultKind.FAILED
            result.error = redact(str(exc)) or type(exc).__name__
        result.lease = _current_lease(self._session, self._ref)
        self._signals.finished.emit(result)


def _current_lease(session: object, ref: PicRef) -> Lease | None:
    """The session's lease after a fetch (it may have re-resolved after a 403), for the badge."""
    table = getattr(session, "leases", None)
    getter = getattr(table, "get", None)
    if getter is None:
        return None
    try:
        lease = getter(ref.ident)
    except Exception:
        return None
    return lease if isinstance(lease, Lease) else None


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


def pixmap_bytes(pixmap: QPixmap) -> int:
    return max(1, pixmap.width() * pixmap.height() * max(1, pixmap.depth()) // 8)


class ThumbnailLoader(QObject):
    """Loads thumbnails for the rows the view asks for, newest request wins.

    Owner of its thread pool: ``shutdown()`` cancels everything and joins the threads.
    """

    thumbnailsReady = Signal(object)  # list[ThumbnailResult]
    failed = Signal(object)  # list[tuple[Ident, str]]
    leasesLearned = Signal(object)  # list[Lease]
    tokenRejected = Signal()
    fullImageReady = Signal(object)  # FullImage

    def __init__(
        self,
        session: Fetcher,
        cache: ByteBudgetCache[ThumbKey, QPixmap],
        parent: QObject | None = None,
        *,
        threads: int = 3,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._cache = cache
        self._pool: QThreadPool | None = QThreadPool(self)
        self._pool.setMaxThreadCount(max(1, threads))
        # Decoding only gets the CPU the GUI thread leaves: on Linux this is SCHED_IDLE. Measured on 2 cores
        # while opening 1,000 phone photos: p99 GUI gap 53–86 ms at normal priority, 27 ms at idle.
        self._pool.setThreadPriority(QThread.Priority.IdlePriority)
        self._max_inflight = max(1, threads) + 2
        self._signals = _Signals(self)
        self._signals.finished.connect(self._on_finished)
        self._queue: list[tuple[PicRef, int, float, int]] = []  # (ref, bucket, dpr, priority), best first
        self._inflight: dict[ThumbKey, _Ticket] = {}
        self._full: dict[int, _Ticket] = {}
        self._next_request = 1
        self._paused = False
        self._closed = False
        self._results: list[JobResult] = []
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self._flush)
        self.jobs_started = 0  # handed to the pool (for tests and benchmarks)
        self.jobs_dropped = 0  # handed to the pool, then dropped before they started

    # -- requests --------------------------------------------------------------------------------------
    def request(self, visible: Sequence[PicRef], prefetch: Sequence[PicRef], bucket: int, dpr: float) -> None:
        """Replace what is wanted: ``visible`` first, then ``prefetch``. Anything else queued is dropped."""
        if self._closed:
            return
        wanted: list[tuple[PicRef, int, float, int]] = []
        keys: set[ThumbKey] = set()
        for priority, refs in ((1, visible), (0, prefetch)):
            for ref in refs:
                key = (ref.pic_key, ref.tag, bucket)
                if key in keys or key in self._cache:
                    continue
                keys.add(key)
                wanted.append((ref, bucket, dpr, priority))
                if len(wanted) >= MAX_PENDING:
                    break
        for key, ticket in list(self._inflight.items()):
            if key not in keys and ticket.try_drop():
                del self._inflight[key]
                self.jobs_dropped += 1
        self._queue = [
            entry for entry in wanted if (entry[0].pic_key, entry[0].tag, bucket) not in self._inflight
        ]
        self._pump()

    def request_full(self, ref: PicRef) -> int:
        """Fetch and decode the whole picture (preview, copy); answered by ``fullImageReady``."""
        request_id = self._next_request
        self._next_request += 1
        if self._closed or self._pool is None:
            return request_id
        ticket = _Ticket()
        self._full[request_id] = ticket
        job = _ImageJob(self._signals, self._session, ref, None, 0, 1.0, request_id, ticket)
        self._pool.start(job, 2)
        return request_id

    def cancel_full(self, request_id: int) -> None:
        ticket = self._full.pop(request_id, None)
        if ticket is not None:
            ticket.try_drop()
            ticket.cancel.set()

    def pause(self) -> None:
        """Stop starting jobs (token rejected); queued wishes are kept."""
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        self._pump()

    def pending_count(self) -> int:
        return len(self._queue)

    def inflight_count(self) -> int:
        return len(self._inflight)

    def is_idle(self) -> bool:
        return not self._queue and not self._inflight and not self._full and not self._results

    def pool(self) -> QThreadPool | None:
        return self._pool

    def _pump(self) -> None:
        pool = self._pool
        if self._paused or self._closed or pool is None:
            return
        while self._queue and len(self._inflight) < self._max_inflight:
            ref, bucket, dpr, priority = self._queue.pop(0)
            key = (ref.pic_key, ref.tag, bucket)
            if key in self._inflight or key in self._cache:
                continue
            ticket = _Ticket()
            self._inflight[key] = ticket
            box = max(1, round(bucket * dpr))
            job = _ImageJob(self._signals, self._session, ref, box, bucket, dpr, 0, ticket)
            self.jobs_started += 1
            pool.start(job, priority)

    # -- results (GUI thread) --------------------------------------------------------------------------
    @Slot(object)
    def _on_finished(self, result: JobResult) -> None:
        if self._closed:
            return
        if result.request_id:
            if self._full.pop(result.request_id, None) is None:
                return  # cancelled meanwhile
            self._emit_full(result)
            return
        self._inflight.pop((result.ref.pic_key, result.ref.tag, result.bucket), None)
        self._results.append(result)
        if not self._flush_timer.isActive():
            self._flush_timer.start()
        self._pump()

    def _emit_full(self, result: JobResult) -> None:
        if result.kind is ResultKind.TOKEN:
            self.tokenRejected.emit()
        error = result.error
        if result.kind is ResultKind.TOKEN:
            error = self.tr("the access token was rejected")
        elif result.kind is ResultKind.CANCELLED:
            error = self.tr("cancelled")
        if result.lease is not None:
            self.leasesLearned.emit([result.lease])
        self.fullImageReady.emit(
            FullImage(
                result.request_id,
                result.ref,
                result.image if result.kind is ResultKind.OK else None,
                error,
                result.byte_count,
                result.image_format,
                result.pixel_size,
            )
        )

    @Slot()
    def _flush(self) -> None:
        results, self._results = self._results, []
        ready: list[ThumbnailResult] = []
        failures: list[tuple[Ident, str]] = []
        leases: list[Lease] = []
        token = False
        for result in results:
            if result.lease is not None:
                leases.append(result.lease)
            if result.kind is ResultKind.OK and result.image is not None:
                pixmap = QPixmap.fromImage(result.image)
                self._cache.put((result.ref.pic_key, result.ref.tag, result.bucket), pixmap)
                ready.append(
                    ThumbnailResult(
                        result.ref.ident,
                        result.bucket,
                        result.byte_count,
                        result.image_format,
                        result.pixel_size,
                    )
                )
            elif result.kind is ResultKind.FAILED:
                failures.append((result.ref.ident, result.error))
            elif result.kind is ResultKind.TOKEN:
                token = True
        if leases:
            self.leasesLearned.emit(leases)
        if ready:
            self.thumbnailsReady.emit(ready)
        if failures:
            self.failed.emit(failures)
        if token:
            self.pause()
            self.tokenRejected.emit()

    # -- lifetime --------------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Cancel queued and running jobs and join the pool's threads. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._flush_timer.stop()
        self._queue.clear()
        for ticket in [*self._inflight.values(), *self._full.values()]:
            ticket.try_drop()
            ticket.cancel.set()
        self._inflight.clear()
        self._full.clear()
        self._results.clear()
        pool = self._pool
        self._pool = None
        if pool is not None:
            pool.clear()
            pool.waitForDone(-1)
            Shiboken.delete(pool)  # joins the idle threads now instead of after their expiry timeout

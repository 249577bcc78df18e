"""Thumbnails decoded small and off the GUI thread, only for what the user can see.

``ThumbnailLoader`` keeps its own priority queue on the GUI thread (visible rows first, then the prefetch
margin) and runs each picture through two stages, so the network and the CPU work at the same time:

- **fetch** — a pool at normal priority (its threads mostly wait on the network) in two lanes: many
  ``session.fetch_tile_head`` calls (memory/disk cache, else a small Range GET of the picture's head: a
  JPEG's EXIF thumbnail or a progressive JPEG's first scans make most tiles), and a few
  ``session.fetch_bytes`` calls for the pictures whose head cannot make the tile (the rest after the head)
  — reading megabytes through Python costs the GUI thread CPU and the GIL, reading a head does not.
  Previews and copies use ``fetch_bytes`` too; one re-resolve on 403/410 throughout;
- **decode** — a small pool at a background priority decodes with ``QImageReader`` straight to the tile
  size (JPEG DCT downscale, EXIF rotation), so decoding yields the CPU to the GUI thread.

With a disk cache of tiles (``set_tile_store``, see ``gui.tile_store``) a third stage comes first:

- **look up** — a small pool at normal priority reads the tile from disk and decodes it (a few KB); it runs
  for tiles whose link is not known yet too (``request(fetchable=…)``), so a reopened workbook paints before
  the API has answered. A picture is fetched only after its tile was looked up and missed, so a cached tile
  never costs an image GET; the decode stage stores each new tile (encoded in that worker, once sent).

The GUI thread hands a fetched picture to the decode stage only if its tile is still wanted, and starts a
fetch only while few pictures are fetched-but-undecoded (a bounded hand-off, not a pile of originals). When
the user scrolls away the queue is simply replaced: stale work never starts, and a job handed to a pool but
not yet started is dropped through its ticket. Workers return ``QImage``; the GUI thread only turns them into
``QPixmap`` — at most every ~40 ms (``Throttle``), so the model sees one ``dataChanged`` per run of rows, not
one per picture, and a tile that comes alone (a slow line) is shown at once. The workers are in
``gui.thumbnail_jobs``; what a worker may call in Qt, and why plugins are loaded here on the GUI thread, is
stated in ``gui.decode``.
"""

from __future__ import annotations

import logging
from collections.abc import Container, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QPixmap

from kdocs_viewer.core.cache import ByteBudgetCache
from kdocs_viewer.core.models import Ident, Lease, PicRef
from kdocs_viewer.gui.decode import load_reader_plugins
from kdocs_viewer.gui.picture_model import ThumbKey, ThumbnailResult, tile_box
from kdocs_viewer.gui.retired import retire
from kdocs_viewer.gui.throttle import Throttle
from kdocs_viewer.gui.thumbnail_jobs import (
    DecodeJob,
    Fetched,
    Fetcher,
    FetchJob,
    FullImage,
    JobResult,
    JobSignals,
    LookedUp,
    LookupJob,
    ResultKind,
    Ticket,
    TileWrite,
)
from kdocs_viewer.gui.worker_pool import WorkerPool

if TYPE_CHECKING:
    from kdocs_viewer.gui.tile_store import TileStore

log = logging.getLogger(__name__)

FLUSH_MS = 40  # results reach the model at most this often
MAX_PENDING = 256  # wanted-but-not-started jobs kept; beyond that the far prefetch is not queued
# Head GETs in flight: each waits a round trip for a few KB, so the first screenful needs few rounds; more
# fetchers also load more tiles during a fast drag, with their CPU and memory (bench/RESULTS.md, "Figures
# behind choices in the code").
FETCHERS = 32
# ... and fewer while the view moves on before its tiles arrive (a drag, a fling): those tiles would be gone
# before they come, and their CPU is taken from the frames.
FETCHERS_WHILE_MOVING = 2
# Whole pictures in flight (a screenshot, a photo on a HiDPI screen, a host without Range), bounded by their
# bytes: reading megabytes through Python costs the GUI thread CPU and the GIL, while small ones cost little
# and would otherwise wait a round trip each. Sizes come from the head's Content-Range; unknown ones count as
# a photo. At most WHOLE_FETCHES at once all the same: enough for the screenshots of a screenful (a few
# hundred KB each, the rest after their heads), few enough that small ones do not fill the pool.
WHOLE_BYTES_IN_FLIGHT = 6 * 1024 * 1024
WHOLE_FETCHES = 8
UNKNOWN_SIZE = 3 * 1024 * 1024
DECODE_BACKLOG = 32  # pictures being fetched or fetched-but-waiting for a decoder, at most: ≥ FETCHERS
LOOKUP_THREADS = 2  # reading a stored tile is ~1 ms of disk and decoding
LOOKUPS_IN_FLIGHT = 8  # handed to the lookup pool at once; the rest wait in the queue (a scroll drops them)


class _Stage(Enum):
    FETCH = "fetch"  # the head lane
    WHOLE = "whole"  # the whole-picture lane: waiting for it, or running (``_Work.running``)
    DECODE = "decode"


@dataclass(slots=True)
class _Work:
    """A thumbnail past the queue (GUI thread only): its stage, and whether its tile is still wanted."""

    ref: PicRef
    bucket: int
    dpr: float
    priority: int
    ticket: Ticket
    stage: _Stage = _Stage.FETCH
    wanted: bool = True
    running: bool = False  # in the whole lane: its fetch was handed to the pool
    size: int = 0  # in the whole lane: the picture's bytes, as far as known

    @property
    def box(self) -> int:
        """The tile's size in device pixels."""
        return tile_box(self.bucket, self.dpr)
    generation: int = 0  # of the tile store when the work began (a clear since: the tile is not stored)


class ThumbnailLoader(QObject):
    """Loads thumbnails for the rows the view asks for, newest request wins.

    Owner of its thread pools (lookup, fetch, decode): ``shutdown()`` cancels everything and joins the
    lookup and decode threads; a fetch still on the wire ends on its own. ``jobs_started`` counts
    thumbnails handed to the fetch stage; ``jobs_dropped`` those of them that were then dropped before
    being decoded (before their fetch started, or fetched for a tile no longer wanted); ``decodes_started``
    those handed to the decode stage; ``lookups_started`` tiles handed to the lookup stage and
    ``disk_hits`` those found on disk.
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
        fetchers: int = FETCHERS,
        whole_bytes: int = WHOLE_BYTES_IN_FLIGHT,
        backlog: int = DECODE_BACKLOG,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._cache = cache
        # Decoding yields the CPU to the GUI thread (``worker_pool.BACKGROUND_NICE``): at normal priority
        # the p99 GUI gap while a workbook of phone photos opens is two to three times as long.
        self._pool: WorkerPool | None = WorkerPool("kdocs-decode", threads, background=True)
        # Fetching mostly waits on the network; at normal priority so a busy decoder never delays a GET.
        # One thread more than thumbnails may use, so a preview never waits behind a screenful of GETs.
        self._fetchers = max(1, fetchers)
        self._head_limit = self._fetchers  # FETCHERS_WHILE_MOVING while the view moves on (``request``)
        self._whole_bytes = whole_bytes
        self._fetch_pool: WorkerPool | None = WorkerPool("kdocs-fetch", self._fetchers + WHOLE_FETCHES + 1)
        # Past the queue at most, besides the whole lane: the decoders' jobs plus ``backlog`` fetching or
        # fetched-but-waiting, so originals never pile up in front of slow decoders.
        self._max_inflight = max(1, threads) + max(1, backlog)
        # The prefetch margin waits until the decoders have no visible backlog: fetching costs CPU too
        # (reading and caching a few MB), which the screen the user is looking at needs first.
        self._prefetch_below = max(1, threads) + 1
        load_reader_plugins()
        self._signals = JobSignals(self)
        self._signals.fetched.connect(self._on_fetched)
        self._signals.finished.connect(self._on_finished)
        self._signals.looked_up.connect(self._on_looked_up)
        self._tiles: TileStore | None = None
        self._lookup_pool: WorkerPool | None = WorkerPool("kdocs-lookup", LOOKUP_THREADS)
        self._lookup_queue: list[tuple[PicRef, int, float, int]] = []  # best first, like ``_queue``
        self._lookups: dict[ThumbKey, Ticket] = {}  # handed to the lookup pool
        self._missed: set[ThumbKey] = set()  # looked up and not on disk: fetched without asking again
        self._after_miss: dict[ThumbKey, tuple[PicRef, int, float, int]] = {}  # fetchable, once missed
        self._queue: list[tuple[PicRef, int, float, int]] = []  # (ref, bucket, dpr, priority), best first
        self._inflight: dict[ThumbKey, _Work] = {}
        self._full: dict[int, Ticket] = {}
        self._next_request = 1
        self._paused = False
        self._closed = False
        self._results: list[JobResult] = []
        self._flusher = Throttle(FLUSH_MS, self._flush, self)
        self.jobs_started = 0  # handed to the fetch stage (for tests and benchmarks)
        self.jobs_dropped = 0  # of those, dropped before being decoded
        self.decodes_started = 0  # handed to the decode stage
        self.lookups_started = 0  # handed to the lookup stage
        self.disk_hits = 0  # of those, found on disk
        # The head lane's threads are made while the first links are being resolved, after the screen was
        # painted: making them is Python work that would take the GIL from the painting.
        QTimer.singleShot(0, self, self._spawn_fetchers)

    def _spawn_fetchers(self) -> None:
        if self._fetch_pool is not None:
            self._fetch_pool.spawn(self._fetchers)

    # -- requests --------------------------------------------------------------------------------------
    def set_tile_store(self, store: TileStore | None) -> None:
        """Look tiles up in (and store new ones to) this disk cache; None: neither. Queued lookups are
        dropped; the caller requests again."""
        for ticket in self._lookups.values():
            ticket.try_drop()
        self._lookups.clear()
        self._lookup_queue.clear()
        self._after_miss.clear()
        self._missed.clear()
        if store is not None:
            from kdocs_viewer.gui.tile_store import load_tile_codecs

            load_tile_codecs()  # on the GUI thread, before any worker encodes or decodes a tile
        self._tiles = store

    def tile_store(self) -> TileStore | None:
        return self._tiles

    def request(
        self,
        visible: Sequence[PicRef],
        prefetch: Sequence[PicRef],
        bucket: int,
        dpr: float,
        *,
        fetchable: Container[Ident] | None = None,
    ) -> None:
        """Replace what is wanted: ``visible`` first, then ``prefetch``. Anything else queued is dropped.

        ``fetchable``: the pictures that may be fetched now (None: all); the others are only looked up in
        the disk cache. With a tile store, a picture is fetched only once its tile was not found there. A
        fetch already running for a tile no longer wanted finishes (its bytes stay in the session's cache)
        but is not decoded.
        """
        if self._closed:
            return
        wanted: list[tuple[PicRef, int, float, int]] = []
        looks: list[tuple[PicRef, int, float, int]] = []
        after_miss: dict[ThumbKey, tuple[PicRef, int, float, int]] = {}
        keys: dict[ThumbKey, int] = {}
        store = self._tiles
        for priority, refs in ((1, visible), (0, prefetch)):
            for ref in refs:
                key = ref.thumb_key(bucket)
                if key in keys or key in self._cache:
                    continue
                may_fetch = fetchable is None or ref.ident in fetchable
                look = store is not None and key not in self._missed and key not in self._inflight
                if not (look or may_fetch):
                    continue
                keys[key] = priority
                entry = (ref, bucket, dpr, priority)
                if look:
                    looks.append(entry)
                    if may_fetch:
                        after_miss[key] = entry
                else:
                    wanted.append(entry)
                if len(keys) >= MAX_PENDING:
                    break
        for key, ticket in list(self._lookups.items()):
            if key not in keys and ticket.try_drop():
                del self._lookups[key]
        self._lookup_queue = [e for e in looks if e[0].thumb_key(bucket) not in self._lookups]
        self._after_miss = after_miss
        moving = False  # a tile still on its way when it left the screen
        for key, work in list(self._inflight.items()):
            moving = moving or (work.wanted and work.priority == 1 and keys.get(key) != 1)
            if key in keys:
                work.wanted = True
                work.priority = keys[key]
            elif work.ticket.try_drop():
                del self._inflight[key]
                self.jobs_dropped += 1
            else:
                work.wanted = False
        self._queue = [
            entry for entry in wanted if entry[0].thumb_key(bucket) not in self._inflight
        ]
        self._head_limit = min(self._fetchers, FETCHERS_WHILE_MOVING) if moving else self._fetchers
        self._pump()

    def request_full(self, ref: PicRef) -> int:
        """Fetch and decode the whole picture (preview, copy); answered by ``fullImageReady``."""
        request_id = self._next_request
        self._next_request += 1
        if self._closed or self._fetch_pool is None:
            return request_id
        ticket = Ticket()
        self._full[request_id] = ticket
        self._fetch_pool.start(FetchJob(self._signals, self._session, ref, 0, request_id, ticket).run, 2)
        return request_id

    def cancel_full(self, request_id: int) -> None:
        ticket = self._full.pop(request_id, None)
        if ticket is not None:
            ticket.try_drop()
            ticket.cancel.set()

    def pause(self) -> None:
        """Stop starting fetches (token rejected); queued wishes are kept, fetched pictures still decode."""
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        self._pump()

    def pending_count(self) -> int:
        return len(self._queue)

    def inflight_count(self) -> int:
        """Thumbnails past the queue: being fetched, waiting for a decoder, or being decoded."""
        return len(self._inflight)

    def fetching_count(self) -> int:
        """Fetches handed to the pool: heads, and whole pictures whose lane has started them."""
        return sum(1 for work in self._inflight.values() if work.stage is _Stage.FETCH or work.running)

    def is_idle(self) -> bool:
        """Nothing queued, in flight or waiting to be sent, and no tile being written to disk."""
        return (
            (self._pool is None or not self._pool.active())
            and not self._queue
            and not self._inflight
            and not self._full
            and not self._results
            and not self._lookup_queue
            and not self._lookups
        )

    def pool(self) -> WorkerPool | None:
        """The decode pool (None after shutdown)."""
        return self._pool

    def _pump(self) -> None:
        self._pump_lookups()
        pool = self._fetch_pool
        if self._paused or self._closed or pool is None:
            return
        waiting = [
            work for work in self._inflight.values() if work.stage is _Stage.WHOLE and not work.running
        ]
        if waiting:  # the whole lane first: its pictures were asked for before anything still queued
            running = [work for work in self._inflight.values() if work.running]
            reading, count = sum(work.size for work in running), len(running)
            for work in sorted(waiting, key=lambda work: -work.priority):
                if count >= WHOLE_FETCHES or (reading and reading + work.size > self._whole_bytes):
                    break
                work.running = True
                reading, count = reading + work.size, count + 1
                self._start_fetch(work)
        heads = [work for work in self._inflight.values() if work.stage is _Stage.FETCH]
        fetching, wanted = len(heads), sum(1 for work in heads if work.wanted)
        # The whole lane is bounded by its bytes: its pictures do not hold back the heads of the next ones.
        held = sum(1 for work in self._inflight.values() if work.stage is not _Stage.WHOLE)
        # Heads still on their way for tiles scrolled away count against the lane, not against the limit
        # of the moment: they would otherwise hold back the tiles that are on screen now.
        while (
            self._queue
            and wanted < self._head_limit
            and fetching < self._fetchers
            and held < self._max_inflight
        ):
            if self._queue[0][3] == 0 and len(self._inflight) >= self._prefetch_below:
                break  # only the prefetch margin is left, and the decoders are still busy with the screen
            ref, bucket, dpr, priority = self._queue.pop(0)
            key = ref.thumb_key(bucket)
            if key in self._inflight or key in self._cache:
                continue
            generation = self._tiles.generation if self._tiles is not None else 0
            work = _Work(ref, bucket, dpr, priority, Ticket(), generation=generation)
            self._inflight[key] = work
            fetching, wanted, held = fetching + 1, wanted + 1, held + 1
            self.jobs_started += 1
            self._start_fetch(work)

    def _start_fetch(self, work: _Work) -> None:
        """Hand ``work`` to the fetch pool: its head, or in the whole lane the whole picture."""
        if self._fetch_pool is None:
            return
        box = None if work.stage is _Stage.WHOLE else work.box
        job = FetchJob(self._signals, self._session, work.ref, work.bucket, 0, work.ticket, box)
        self._fetch_pool.start(job.run, work.priority)

    def _to_whole_lane(self, key: ThumbKey, result: JobResult) -> None:
        """The head cannot make this tile: the whole picture is fetched in its lane, if still wanted."""
        work = self._inflight.get(key)
        if work is not None and work.wanted and work.stage is not _Stage.WHOLE:
            work.stage, work.running, work.ticket = _Stage.WHOLE, False, Ticket()
            work.size = result.byte_count or UNKNOWN_SIZE
        else:
            if work is not None and not work.wanted:
                self.jobs_dropped += 1  # scrolled away meanwhile: the head stays in the session's cache
            result.kind = ResultKind.CANCELLED
            self._finish(key, result)
        self._pump()

    def _pump_lookups(self) -> None:
        """Lookups need no network and no lease: they run while fetching is paused too."""
        pool, store = self._lookup_pool, self._tiles
        if self._closed or pool is None or store is None:
            return
        while self._lookup_queue and len(self._lookups) < LOOKUPS_IN_FLIGHT:
            ref, bucket, dpr, priority = self._lookup_queue.pop(0)
            key = ref.thumb_key(bucket)
            if key in self._lookups or key in self._inflight or key in self._cache:
                continue
            ticket = Ticket()
            self._lookups[key] = ticket
            self.lookups_started += 1
            pool.start(LookupJob(self._signals, store, self._session, ref, bucket, dpr, ticket).run, priority)

    # -- results (GUI thread) --------------------------------------------------------------------------
    @Slot(object)
    def _on_looked_up(self, looked: LookedUp) -> None:
        """A hit is a finished thumbnail; a miss sends a fetchable picture on to the fetch queue."""
        if self._closed or self._lookups.get(looked.key) is not looked.ticket:
            return  # dropped meanwhile (store switched off or changed)
        key = looked.key
        del self._lookups[key]
        entry = self._after_miss.pop(key, None)
        if looked.result is not None:
            self.disk_hits += 1
            self._results.append(looked.result)
            self._flusher.soon()
        else:
            self._missed.add(key)
            if entry is not None and key not in self._inflight and key not in self._cache:
                queue = self._queue
                at = next((i for i, queued in enumerate(queue) if queued[3] < entry[3]), len(queue))
                queue.insert(at, entry)
        self._pump()
        if self._results and not self._lookups and not self._lookup_queue:
            # The disk has answered for every wanted tile: show them now, not FLUSH_MS later (on a reopen
            # this is the whole screen, and the API's first answer is only a round trip away).
            self._flusher.now()

    @Slot(object)
    def _on_fetched(self, fetched: Fetched) -> None:
        """Hand the bytes to the decode stage if the tile (or preview) is still wanted."""
        if self._closed or self._pool is None:
            return
        result = fetched.result
        if result.request_id:
            if self._full.get(result.request_id) is not fetched.ticket:
                return  # cancelled meanwhile
            if result.kind is not ResultKind.OK:
                del self._full[result.request_id]
                self._emit_full(result)
                return
            ticket = Ticket(payload=fetched.data)
            self._full[result.request_id] = ticket
            self._pool.start(DecodeJob(self._signals, result, None, 1.0, ticket).run, 2)
            return
        key = result.ref.thumb_key(result.bucket)
        work = self._inflight.get(key)
        if work is None or work.ticket is not fetched.ticket:
            return
        if result.kind is ResultKind.NEEDS_WHOLE:
            self._to_whole_lane(key, result)
            return
        if result.kind is ResultKind.OK and work.wanted:
            work.stage, work.running = _Stage.DECODE, False
            work.ticket = Ticket(payload=fetched.data, source=fetched.source)
            self.decodes_started += 1
            write = TileWrite(self._tiles, work.generation) if self._tiles is not None else None
            job = DecodeJob(self._signals, result, work.box, work.dpr, work.ticket, write)
            self._pool.start(job.run, work.priority)
        else:
            if result.kind is ResultKind.OK:  # scrolled away meanwhile: keep only what was learned
                result.kind = ResultKind.CANCELLED
                self.jobs_dropped += 1
            self._finish(key, result)
        self._pump()

    @Slot(object)
    def _on_finished(self, result: JobResult) -> None:
        if self._closed:
            return
        if result.request_id:
            if self._full.pop(result.request_id, None) is None:
                return  # cancelled meanwhile
            self._emit_full(result)
            return
        key = result.ref.thumb_key(result.bucket)
        if result.kind is ResultKind.NEEDS_WHOLE:  # the head's thumbnail would not decode after all
            self._to_whole_lane(key, result)
            return
        if result.kind is ResultKind.OK and self._tiles is not None:
            self._missed.discard(key)  # stored now: look it up if it ever leaves the memory cache
        self._finish(key, result)
        self._pump()

    def _finish(self, key: ThumbKey, result: JobResult) -> None:
        work = self._inflight.pop(key, None)
        self._results.append(result)
        if work is not None and work.priority and self._visible_done():
            self._flusher.now()  # the screen's last tile need not wait for the batch
        else:
            self._flusher.soon()

    def _visible_done(self) -> bool:
        """Nothing asked for as visible is queued or past the queue any more."""
        return not any(work.priority for work in self._inflight.values()) and not any(
            entry[3] for entry in self._queue
        )

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
                self._cache.put(result.ref.thumb_key(result.bucket), pixmap)
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
        """Cancel queued and running jobs of every stage and join the lookup and decode threads; fetch
        threads still waiting on the network are not waited for (``gui.retired``). Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._flusher.stop()
        self._queue.clear()
        self._lookup_queue.clear()
        for ticket in [
            *(work.ticket for work in self._inflight.values()),
            *self._full.values(),
            *self._lookups.values(),
        ]:
            ticket.try_drop()
            ticket.cancel.set()
        self._inflight.clear()
        self._full.clear()
        self._lookups.clear()
        self._results.clear()
        fetch, pools = self._fetch_pool, (self._lookup_pool, self._pool)
        self._lookup_pool = self._fetch_pool = self._pool = None
        if fetch is not None:  # a fetch's result reaches the decoders only through this (closed) loader
            fetch.shutdown(wait=False)
            retire(self._signals, fetch.busy)
        for pool in pools:
            if pool is not None:
                pool.shutdown()

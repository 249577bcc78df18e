"""One workbook's pictures: leases, caches and downloads behind ``ensure_lease`` and ``fetch_bytes``.

What the GUI, the CLI and the saver share. The guarantees that matter:

- **Quota.** Lease requests from many threads are collected for a short window and sent together, so a
  hundred tiles appearing at once cost one ``pictures/urls`` call, not a hundred; a ref already being
  resolved is never asked for twice (``core.lease_batcher``); a lease is reused while it has more than a
  small margin left.
- **No duplicate GETs.** Concurrent fetches of one picture share one download (single-flight); bytes are
  cached in memory (and on disk when asked) by ``(file_token, pic_key)``, never by URL.
- **Few bytes for a tile.** ``fetch_tile_head`` asks for the head of a picture first (an HTTP Range
  request) and stops there when the head makes the tile (``core.jpeghead``: a JPEG's EXIF thumbnail or a
  progressive JPEG's first scans); heads are kept in their own byte-budgeted cache by
  ``(file_token, pic_key, tag)``, and in the disk cache when there is one. When the whole picture is
  needed later (preview, save, copy, drag, or a tile the head cannot make), only the rest is fetched: no
  byte is downloaded twice. A host that ignores Range answers with the whole picture, which is then used
  and cached as the original.
- **Honest failures.** A refused URL (403/410) is re-resolved once and tried again; if the fresh link is
  refused too, the error says so. Pictures without a URL raise ``PicUnavailable`` with the server's reason.
  An answer that is not a picture (a login page with 200) raises ``NotAPictureError`` and is never cached,
  so saving, thumbnails and the CLI all fail it with the same reason (``core.formats``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Protocol

from kdocs_viewer.core.cache import ByteBudgetCache, CachedFile, DiskCache
from kdocs_viewer.core.download import (
    DEFAULT_MAX_BYTES,
    Body,
    CancelFlag,
    DownloadCancelled,
    Downloader,
    DownloadError,
    NotAPictureError,
    RangeNotSatisfiable,
    UnexpectedRange,
    UrlExpiredError,
)
from kdocs_viewer.core.errors import FailureReason
from kdocs_viewer.core.formats import not_a_picture
from kdocs_viewer.core.i18n import translate
from kdocs_viewer.core.jpeghead import Enough, HeadSizer, More, TileSource, tile_verdict
from kdocs_viewer.core.lease_batcher import COLLECT_QUIET, LeaseBatcher
from kdocs_viewer.core.lease_table import LeaseTable
from kdocs_viewer.core.models import Ident, Lease, Outcome, PicFailure, PicRef
from kdocs_viewer.core.picture_heads import DEFAULT_HEAD_BUDGET, Head, HeadCache, NeedsWhole, TileBytes
from kdocs_viewer.core.session_stats import SessionStats
from kdocs_viewer.core.single_flight import SingleFlight, wait_or_cancel

__all__ = [
    "LeaseClient",
    "LeaseResolver",
    "LeaseSource",
    "LeaseTable",
    "NeedsWhole",
    "PicUnavailable",
    "PictureSession",
    "SessionStats",
    "TileBytes",
]

log = logging.getLogger(__name__)

DEFAULT_MEMORY_BUDGET = 256 * 1024 * 1024
# A lease is reused while more than min(REUSE_MARGIN, REUSE_FRACTION × ttl) is left: enough for a GET to
# start before the URL dies, small enough that short (test) lifetimes are still used.
REUSE_MARGIN = 10.0
REUSE_FRACTION = 0.1


class LeaseClient(Protocol):
    """What the session needs of ``core.api.KDocsClient``."""

    @property
    def calls_made(self) -> int: ...

    def resolve(
        self, file_token: str, pics: Iterable[PicRef], *, cancel: threading.Event | None = None
    ) -> list[Outcome]: ...


class LeaseSource(Protocol):
    """What the GUI's lease keeper and thumbnail loader both read of a ``PictureSession``: its lease table.

    The keeper plans refreshes from the leases in it; the loader hands a tile the lease its fetch used (a
    fetch may have re-resolved after a 403). ``LeaseTable.get`` never raises.
    """

    @property
    def leases(self) -> LeaseTable: ...


class LeaseResolver(LeaseSource, Protocol):
    """What the GUI's lease keeper needs of a ``PictureSession``: the leases, and resolving on its worker."""

    def resolve(self, refs: Iterable[PicRef], *, cancel: threading.Event | None = None) -> list[Outcome]:
        """A Lease or PicFailure per ref. Raises TokenInvalidError (the token was rejected), another
        KDocsError (the call failed as a whole), ValueError (no file token) or RuntimeError (the client
        was closed)."""
        ...


class PicUnavailable(Exception):
    """The picture has no download URL (unknown key, per-picture error, failed batch): its PicFailure.

    ``message`` (also ``str(e)``) is for people, ``reason`` (``core.errors``) for code.
    """

    def __init__(self, failure: PicFailure) -> None:
        super().__init__(failure.message)
        self.failure = failure
        self.ref = failure.ref
        self.message = failure.message
        self.code = failure.code
        self.reason = failure.reason


class PictureSession:
    """Leases, caches and downloads for the pictures of one workbook (``file_token``). Thread-safe.

    The session owns its ``LeaseBatcher`` (with its threads, started on first need) and, when it created it,
    its Downloader; ``close()`` stops and joins both. The client and the disk cache belong to the caller.
    """

    def __init__(
        self,
        client: LeaseClient,
        file_token: str,
        *,
        downloader: Downloader | None = None,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
        disk_cache: DiskCache | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        collect_window: float = COLLECT_QUIET,
        head_budget: int = DEFAULT_HEAD_BUDGET,
    ) -> None:
        self._client = client
        self._file_token = file_token
        self._owns_downloader = downloader is None
        # Made on the first GET, on a worker: building an httpx client costs ~2 ms, which opening a
        # workbook on the GUI thread need not pay.
        self._downloader = downloader
        self._downloader_lock = threading.Lock()
        self._memory: ByteBudgetCache[tuple[str, str], bytes] = ByteBudgetCache(memory_budget, len)
        self._head_sizer = HeadSizer()
        self._disk = disk_cache
        self._max_bytes = max_bytes
        self.leases = LeaseTable()
        self._failures: dict[Ident, PicFailure] = {}

        self._lock = threading.Lock()  # guards everything below, and the failures dict
        self._closing = threading.Event()
        self._heads = HeadCache(file_token, disk_cache, head_budget, self._closing)
        self._batcher = LeaseBatcher(
            lambda refs, cancel: self._client.resolve(self._file_token, refs, cancel=cancel),
            self._record,
            self._usable_at,
            self._closing,
            quiet=collect_window,
        )
        self._flights = SingleFlight(self._closing)  # ("whole", ident) or ("head", ident, box)
        self._downloading_now: dict[Ident, int] = {}  # downloads of each picture running now
        self._downloaded: set[Ident] = set()  # pictures whose whole original this session downloaded

        self._calls_at_start = client.calls_made
        self._image_gets = 0
        self._bytes = 0
        self._memory_hits = 0
        self._disk_hits = 0
        self._re_resolves = 0
        self._refetches = 0
        self._duplicate_gets = 0
        self._range_gets = 0
        self._head_hits = 0

    # ---- bookkeeping ----------------------------------------------------------------------------------

    @property
    def file_token(self) -> str:
        return self._file_token

    @property
    def failures(self) -> dict[Ident, PicFailure]:
        """A snapshot: ident → why the latest resolve gave that picture no URL."""
        with self._lock:
            return dict(self._failures)

    @property
    def stats(self) -> SessionStats:
        with self._lock:
            return SessionStats(
                api_calls=self._client.calls_made - self._calls_at_start,
                resolve_requests=self._batcher.resolve_requests,
                image_gets=self._image_gets,
                bytes_downloaded=self._bytes,
                memory_hits=self._memory_hits,
                disk_hits=self._disk_hits,
                re_resolves=self._re_resolves,
                refetches=self._refetches,
                duplicate_gets=self._duplicate_gets,
                range_gets=self._range_gets,
                head_hits=self._head_hits,
            )

    def __repr__(self) -> str:
        return f"<PictureSession {len(self.leases)} leases, {len(self._memory)} pictures in memory>"

    def _record(self, outcomes: Iterable[Outcome]) -> None:
        outcomes = list(outcomes)
        self.leases.update(outcomes)
        with self._lock:
            for outcome in outcomes:
                if isinstance(outcome, PicFailure):
                    self._failures[outcome.ref.ident] = outcome
                else:
                    self._failures.pop(outcome.ref.ident, None)

    @staticmethod
    def _reusable(lease: Lease, now: float) -> bool:
        if lease.ttl is None:
            return True
        left = lease.obtained_at + lease.ttl - now
        return left > min(REUSE_MARGIN, REUSE_FRACTION * lease.ttl)

    def usable_lease(self, ref: PicRef) -> Lease | None:
        """The current lease of ``ref`` if it is good enough to start a download now, without any call."""
        return self._usable_at(ref.ident, time.monotonic())

    def _usable_at(self, ident: Ident, now: float) -> Lease | None:
        lease = self.leases.get(ident)
        return lease if lease is not None and self._reusable(lease, now) else None

    def invalidate(self, ref: PicRef, url: str | None = None) -> None:
        """Forget the lease of ``ref`` (only if it is ``url`` when given): the next use resolves afresh.

        For callers that saw the URL refused elsewhere (the GUI's own 403 path).
        """
        self.leases.discard(ref.ident, url)

    def forget(self, ref: PicRef) -> None:
        """Forget everything known about ``ref`` in this session (lease, failure, bytes in memory)."""
        self.leases.discard(ref.ident)
        with self._lock:
            self._failures.pop(ref.ident, None)
        self._memory.discard((self._file_token, ref.pic_key))
        self._heads.discard(ref)

    # ---- leases ---------------------------------------------------------------------------------------

    def resolve(self, refs: Iterable[PicRef], *, cancel: threading.Event | None = None) -> list[Outcome]:
        """Resolve ``refs`` now, in the caller's thread (batched by the client), and record the outcomes.

        For the GUI's initial resolve and planned refreshes (``expiry.plan_refresh``). While it runs, an
        ``ensure_lease``/``fetch_bytes`` of one of these refs waits for this answer instead of asking again,
        and refs still waiting in the collection queue are taken over by this call. Raises what the client
        raises (TokenInvalidError), also to those waiters.
        """
        refs = list(dict.fromkeys(refs))
        return self._batcher.resolve_now(refs, cancel) if refs else []

    def request_leases(self, refs: Iterable[PicRef]) -> None:
        """Queue lease requests for the refs without a usable lease, and return at once (prefetch).

        The GUI calls this with everything that just became visible, so the later ``fetch_bytes`` of each
        tile finds its lease (or its request in flight) and the whole screen costs one call.
        """
        self._batcher.enqueue(refs)

    def ensure_leases(
        self, refs: Iterable[PicRef], *, cancel: CancelFlag | None = None
    ) -> dict[Ident, Outcome]:
        """A usable Lease or the PicFailure of each ref, resolving the missing ones together.

        Raises TokenInvalidError (or whatever the client raised) and DownloadCancelled.
        """
        pending = self._batcher.enqueue(refs)
        result: dict[Ident, Outcome] = {}
        for ident, item in pending.items():
            if isinstance(item, Lease):
                result[ident] = item
                continue
            wait_or_cancel(item.done, cancel, self._closing)
            result[ident] = self._batcher.outcome_of(item)
        return result

    def ensure_lease(self, ref: PicRef, *, cancel: CancelFlag | None = None) -> Lease:
        """A lease good enough to start a download, reusing the current one when it has time left.

        Concurrent callers for the same ref share one request, and requests from many threads within a
        short window share one API call. A lease that arrives already expired (clock skew) is returned
        anyway: the host has the last word. Raises PicUnavailable, TokenInvalidError (or other errors the
        client raises) and DownloadCancelled.
        """
        lease = self.usable_lease(ref)
        if lease is not None:
            return lease
        item = self._batcher.enqueue([ref])[ref.ident]
        if isinstance(item, Lease):
            return item
        wait_or_cancel(item.done, cancel, self._closing)
        outcome = self._batcher.outcome_of(item)
        if isinstance(outcome, PicFailure):
            raise PicUnavailable(outcome)
        return outcome

    # ---- bytes ----------------------------------------------------------------------------------------

    def _memory_key(self, ref: PicRef) -> tuple[str, str]:
        return (self._file_token, ref.pic_key)

    def cached_bytes(self, ref: PicRef) -> bytes | None:
        """The picture's bytes from memory, else from the disk cache (may read a file), else None."""
        data = self._memory.get(self._memory_key(ref))
        if data is None and self._disk is not None:
            data = self._disk.get(self._file_token, ref.pic_key)
            if data is not None:
                self._memory.put(self._memory_key(ref), data)
        return data

    def fetch_for_save(self, ref: PicRef, *, cancel: CancelFlag | None = None) -> bytes | CachedFile:
        """What saving ``ref`` needs: the disk cache's file itself (the saver links or copies it without
        reading it), else bytes from memory, else one download that is not cached — ``keep_saved`` then
        adopts the saved file, so a batch never writes each picture twice or flushes the memory cache."""
        if self._disk is not None:  # first: linking the file beats writing the bytes out again
            cached = self._disk.entry(self._file_token, ref.pic_key)
            if cached is not None:
                with self._lock:
                    self._disk_hits += 1
                return cached
        data = self._memory_hit(ref)
        return data if data is not None else self._fetch(ref, cancel, store=False)

    def keep_saved(self, ref: PicRef, path: Path) -> None:
        """``ref`` was just saved to ``path`` from downloaded bytes: let the disk cache adopt that file."""
        if self._disk is not None:
            self._disk.adopt(self._file_token, ref.pic_key, path)

    def fetch_bytes(self, ref: PicRef, *, cancel: CancelFlag | None = None) -> bytes:
        """The picture's original bytes: memory cache, disk cache, else one GET via a lease.

        Concurrent calls for the same picture share one download; each caller's ``cancel`` only lets that
        caller go (the download stops when every caller has cancelled). Raises PicUnavailable,
        DownloadError (incl. a URL still refused after one re-resolve, and NotAPictureError for an answer
        that is recognisably not a picture, e.g. a login page: ``core.formats.not_a_picture``, never
        cached), DownloadCancelled, and what ``ensure_lease`` raises. Otherwise bytes are returned as
        served: decoding is the caller's business.
        """
        data = self._memory_hit(ref)
        return data if data is not None else self._fetch(ref, cancel, store=True)

    def _memory_hit(self, ref: PicRef) -> bytes | None:
        """The bytes from the memory cache, counted as a hit; None on a miss."""
        data = self._memory.get(self._memory_key(ref))
        if data is not None:
            with self._lock:
                self._memory_hits += 1
        return data

    def fetch_tile_head(
        self, ref: PicRef, box: int, *, cancel: CancelFlag | None = None
    ) -> TileBytes | NeedsWhole:
        """What a tile of ``box`` device pixels is decoded from, when a head of the picture will do.

        The original when memory or disk has it (``source`` None). Else the head of the picture, when it
        makes the tile (``core.jpeghead``): fetched with a Range GET whose size ``HeadSizer`` learns, grown
        once when a segment runs past it, kept in the heads cache. A host that answers the Range request
        with 200, or a picture no bigger than the head, gives the whole picture: kept as the original, as
        ``fetch_bytes`` keeps it. ``NeedsWhole`` when the whole picture is needed: the head is kept, so
        ``fetch_bytes`` then fetches only the rest after it (no byte twice). Split in two so callers can
        run the small head GETs and the big whole ones in lanes of their own.
        Concurrent calls for one picture and box share one GET, and join a whole download already running.
        Raises what ``fetch_bytes`` raises.
        """
        data = self._memory_hit(ref)
        if data is not None:
            return TileBytes(data, None, len(data))
        head = self._heads.get(ref)
        if head is not None:
            verdict = tile_verdict(head.data, box)
            if isinstance(verdict, Enough):
                with self._lock:
                    self._head_hits += 1
                return head.tile(verdict)
            return NeedsWhole(head.size)
        if self._flights.running(("whole", ref.ident)):
            data = self._fetch(ref, cancel, store=True)
            return TileBytes(data, None, len(data))
        return self._flights.run(
            ("head", ref.ident, box), cancel, lambda shared: self._fetch_tile_head(ref, box, shared)
        )

    def _fetch(self, ref: PicRef, cancel: CancelFlag | None, *, store: bool) -> bytes:
        """Single-flight download of ``ref``; the caller that starts the flight decides whether to cache."""
        return self._flights.run(
            ("whole", ref.ident), cancel, lambda shared: self._fetch_uncached(ref, shared, store)
        )

    def _from_disk(self, ref: PicRef, store: bool) -> bytes | None:
        if self._disk is None:
            return None
        data = self._disk.get(self._file_token, ref.pic_key)
        if data is not None:
            with self._lock:
                self._disk_hits += 1
            if store:
                self._memory.put(self._memory_key(ref), data)
        return data

    def _fetch_uncached(self, ref: PicRef, cancel: CancelFlag, store: bool) -> bytes:
        data = self._from_disk(ref, store)
        if data is not None:
            return data
        head = self._heads.get(ref)
        with self._downloading(ref):
            data = self._rest(ref, head, cancel) if head is not None else self._get(ref, cancel).data
            return self._keep_original(ref, data, store)

    def _fetch_tile_head(self, ref: PicRef, box: int, cancel: CancelFlag) -> TileBytes | NeedsWhole:
        data = self._from_disk(ref, True)
        if data is not None:
            return TileBytes(data, None, len(data))
        with self._downloading(ref):
            body = self._head(ref, cancel)
            if body.whole:
                return self._whole_tile(ref, body.data)
            head = Head(body.data, body.size)
            self._check_picture(ref, head.data)
            verdict = tile_verdict(head.data, box)
            if isinstance(verdict, More):  # a segment runs past the head: grow it once
                last = verdict.end if head.size is None else min(verdict.end, head.size)
                grown = self._get(ref, cancel, len(head.data), last - 1)
                if grown.whole:
                    return self._whole_tile(ref, grown.data)
                head = Head(head.data + grown.data, head.size)
                if len(head.data) == head.size:
                    return self._whole_tile(ref, head.data)
                verdict = tile_verdict(head.data, box)
            self._heads.put(ref, head)  # also when it is not enough: the rest follows it
            if not isinstance(verdict, Enough):
                return NeedsWhole(head.size)
            if verdict.source is TileSource.EXIF:
                self._head_sizer.learn(verdict.end)
            return head.tile(verdict)

    def _head(self, ref: PicRef, cancel: CancelFlag) -> Body:
        """The first bytes of ``ref`` (as many as ``HeadSizer`` says), or the whole of it."""
        try:
            return self._get(ref, cancel, 0, self._head_sizer.size() - 1)
        except RangeNotSatisfiable as exc:  # no byte 0: an empty picture, unless the host is confused
            return Body(b"", 0, 0) if exc.size == 0 else self._get(ref, cancel)
        except UnexpectedRange:
            return self._get(ref, cancel)

    def _rest(self, ref: PicRef, head: Head, cancel: CancelFlag) -> bytes:
        """The whole picture: ``head`` and the bytes after it, or one plain GET when the host's answer does
        not fit the head (another size: the picture changed; a malformed 206)."""
        try:
            body = self._get(ref, cancel, len(head.data))
        except (RangeNotSatisfiable, UnexpectedRange):
            return self._get(ref, cancel).data
        if body.whole:
            return body.data
        if head.size is not None and body.size is not None and body.size != head.size:
            log.debug("picture %s changed size between its head and the rest", ref.pic_key)
            return self._get(ref, cancel).data
        return head.data + body.data

    def _whole_tile(self, ref: PicRef, data: bytes) -> TileBytes:
        data = self._keep_original(ref, data, True)
        return TileBytes(data, None, len(data))

    def _check_picture(self, ref: PicRef, data: bytes) -> None:
        reason = not_a_picture(data)
        if reason is not None:  # raised before anything is cached: never kept as an original or a head
            log.debug("picture %s: %s", ref.pic_key, reason)
            raise NotAPictureError(reason)

    def _keep_original(self, ref: PicRef, data: bytes, store: bool) -> bytes:
        """A whole picture was downloaded: check it is one, then cache it (``store``) instead of its head."""
        self._check_picture(ref, data)
        ident = ref.ident
        with self._lock:
            if ident in self._downloaded:
                self._refetches += 1
            self._downloaded.add(ident)
        if store and not self._closing.is_set():  # a GET that ended after close() is not kept
            self._memory.put(self._memory_key(ref), data)
            if self._disk is not None:
                self._disk.put(self._file_token, ref.pic_key, data)
        self._heads.discard(ref)
        return data

    @contextlib.contextmanager
    def _downloading(self, ref: PicRef) -> Iterator[None]:
        """Marks one download of ``ref`` (all its requests) for the duplicate count."""
        ident = ref.ident
        with self._lock:
            if ident in self._downloading_now:
                self._duplicate_gets += 1
            self._downloading_now[ident] = self._downloading_now.get(ident, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._downloading_now.pop(ident) - 1
                if left:
                    self._downloading_now[ident] = left

    def _get(
        self, ref: PicRef, cancel: CancelFlag, first: int | None = None, last: int | None = None
    ) -> Body:
        """One GET of ``ref`` (bytes ``first``..``last`` when given) with its lease; a refused URL (403/410)
        is resolved again once and tried again."""
        lease = self.ensure_lease(ref, cancel=cancel)
        try:
            return self._send(lease, cancel, first, last)
        except UrlExpiredError as refused:
            log.debug("picture link of %s refused (%s): asking for a fresh one", ref.pic_key, refused.status)
            self.leases.discard(ref.ident, lease.url)
            with self._lock:
                self._re_resolves += 1
        lease = self.ensure_lease(ref, cancel=cancel)
        try:
            return self._send(lease, cancel, first, last)
        except UrlExpiredError as second:
            self.leases.discard(ref.ident, lease.url)
            message = translate(
                "session",
                "the picture server refused the download link (HTTP {status}) even after a "
                "fresh link was obtained: the picture may have been removed or access revoked",
            )
            raise DownloadError(
                message.format(status=second.status), status=second.status, reason=FailureReason.EXPIRED_LINK
            ) from None

    def _send(self, lease: Lease, cancel: CancelFlag, first: int | None, last: int | None) -> Body:
        with self._lock:
            self._image_gets += 1
            if first is not None:
                self._range_gets += 1
        downloader = self._transport()
        if first is None:
            data = downloader.get(lease.url, cancel=cancel, max_bytes=self._max_bytes)
            body = Body(data, 0, len(data))
        else:
            body = downloader.get_range(
                lease.url, first, last, cancel=cancel, max_bytes=self._max_bytes
            )
        with self._lock:
            self._bytes += len(body.data)
        return body

    def _transport(self) -> Downloader:
        with self._downloader_lock:
            if self._closing.is_set():
                raise DownloadCancelled()
            if self._downloader is None:
                self._downloader = Downloader()
            return self._downloader

    # ---- lifetime -------------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop collecting, wake every waiter (they get DownloadCancelled); never waits for the network."""
        self._batcher.close()
        with self._downloader_lock:
            downloader = self._downloader
        if self._owns_downloader and downloader is not None:
            downloader.close()
        self._memory.clear()
        self._heads.clear()

    def __enter__(self) -> PictureSession:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

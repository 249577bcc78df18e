"""Saving pictures to a folder: many at once, each named from a template and written atomically.

``save_batch`` fetches on a pool of threads and writes beside them; one failure never stops the others, and
every result says what became of its picture. Names come from ``core.file_names``, the writes from
``core.atomic_save``; their public names are importable from here too.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kdocs_viewer.core.atomic_save import (
    SaveCancelled,
    SaveOutcome,
    SourceChanged,
    is_part_name,
    read_head,
    remove_stale_parts,
    save_atomically,
    save_reserved,
)
from kdocs_viewer.core.cache import CachedFile
from kdocs_viewer.core.file_names import (
    DEFAULT_TEMPLATE,
    FIELDS,
    MAX_NAME_BYTES,
    ConflictPolicy,
    NameReserver,
    name_key,
    render_name,
    validate_template,
)
from kdocs_viewer.core.formats import sniff_extension
from kdocs_viewer.core.i18n import translate
from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.redact import redact_links

__all__ = [
    "DEFAULT_TEMPLATE",
    "FIELDS",
    "MAX_NAME_BYTES",
    "ConflictPolicy",
    "NameReserver",
    "SaveCancelled",
    "SaveItemResult",
    "SaveOutcome",
    "SaveProgress",
    "SaveSummary",
    "Source",
    "batch_starts",
    "is_part_name",
    "remove_stale_parts",
    "render_name",
    "save_atomically",
    "save_batch",
    "validate_template",
]

PROGRESS_INTERVAL = 0.1  # seconds: progress callbacks at most ~10 Hz

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SaveProgress:
    done: int
    total: int
    bytes_done: int


@dataclass
class SaveItemResult:
    ref: PicRef
    status: Literal["saved", "skipped", "failed", "cancelled"]
    path: Path | None = None
    reason: str | None = None  # for people; never contains a URL or token
    bytes: int = 0


@dataclass
class SaveSummary:
    results: list[SaveItemResult]  # in the order of the refs given

    def _with(self, status: str) -> list[SaveItemResult]:
        return [r for r in self.results if r.status == status]

    @property
    def saved(self) -> list[SaveItemResult]:
        return self._with("saved")

    @property
    def skipped(self) -> list[SaveItemResult]:
        return self._with("skipped")

    @property
    def failed(self) -> list[SaveItemResult]:
        return self._with("failed")

    @property
    def cancelled(self) -> list[SaveItemResult]:
        return self._with("cancelled")

    @property
    def bytes(self) -> int:
        return sum(r.bytes for r in self.results)


def _reason(template: str, error: BaseException) -> str:
    """A short, URL-free account of ``error`` (exception texts from HTTP libraries embed signed URLs),
    put into ``template`` as ``{detail}``."""
    text = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    text = redact_links(text or type(error).__name__, translate("saving", "(link hidden)"))
    return template.format(detail=" ".join(text.split())[:300])


def batch_starts(template: str, refs: Sequence[PicRef]) -> list[int]:
    """The n-th picture whose name repeats starts at "name (n)", so names do not depend on timing."""
    seen: Counter[str] = Counter()
    starts = []
    for i, ref in enumerate(refs, 1):
        key = name_key(render_name(template, ref, i, ""))
        seen[key] += 1
        starts.append(seen[key])
    return starts


Source = bytes | CachedFile
"""What a save's ``fetch`` returns: the bytes, or a complete file to link or copy (the viewer's cache)."""


def save_batch(
    refs: Sequence[PicRef],
    fetch: Callable[[PicRef, threading.Event | None], Source],
    folder: Path,
    *,
    template: str = DEFAULT_TEMPLATE,
    policy: ConflictPolicy = ConflictPolicy.SKIP_IDENTICAL,
    workers: int = 8,
    progress: Callable[[SaveProgress], None] | None = None,
    cancel: threading.Event | None = None,
    on_saved: Callable[[PicRef, Path], None] | None = None,
    on_result: Callable[[SaveItemResult], None] | None = None,
) -> SaveSummary:
    """Fetch and save every picture, ``workers`` fetches at a time; one failure never stops the others.

    Writing (with its fsync) happens outside the fetch slots, on up to ``workers // 2`` more threads, so the
    network keeps ``workers`` downloads busy while finished ones reach the disk. ``on_saved(ref, path)`` is
    called (from a worker) for each picture saved from downloaded bytes — a cache can adopt the file instead
    of storing a second copy; its failures are logged, never a failed save.

    ``folder`` is created if missing, and part files a crashed or killed save left there are removed first
    (``remove_stale_parts``), whatever the policy. ``progress`` is called from the calling thread, at most
    ~10 times a second and once at the end; ``on_result`` from the calling thread too, once per picture as
    it finishes (a script sees each path at once, not only at the end). Setting ``cancel`` stops quickly:
    items not started become "cancelled", writes in flight are removed. Raises ValueError for a bad template
    before doing anything.
    """
    validate_template(template)
    if workers < 1:
        raise ValueError("workers must be at least 1")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(folder)
    stop = cancel if cancel is not None else threading.Event()
    reserver = NameReserver(folder)
    starts = batch_starts(template, refs)
    fetch_slots = threading.Semaphore(workers)

    def cancelled(ref: PicRef) -> SaveItemResult:
        return SaveItemResult(ref, "cancelled", reason=translate("saving", "cancelled"))

    def one(i: int) -> SaveItemResult:
        ref = refs[i]
        for attempt in (1, 2):
            if stop.is_set():
                return cancelled(ref)
            try:
                with fetch_slots:
                    data = fetch(ref, stop)
            except Exception as e:
                if stop.is_set():
                    return cancelled(ref)
                failed = translate("saving", "download failed: {detail}")
                return SaveItemResult(ref, "failed", reason=_reason(failed, e))
            try:
                head = read_head(data)
                if not head:
                    raise ValueError(translate("saving", "the picture is empty (0 bytes)"))
                name = render_name(template, ref, i + 1, sniff_extension(head) or ".bin")
                outcome = save_reserved(folder, name, data, policy, reserver, stop, starts[i])
            except SourceChanged:
                if attempt == 1:
                    continue  # evicted from the cache meanwhile: the second fetch downloads it
                detail = translate("saving", "the cached copy kept changing while it was being saved")
                failed = translate("saving", "could not save: {detail}")
                return SaveItemResult(ref, "failed", reason=failed.format(detail=detail))
            except SaveCancelled:
                return cancelled(ref)
            except Exception as e:
                failed = translate("saving", "could not save: {detail}")
                return SaveItemResult(ref, "failed", reason=_reason(failed, e))
            break
        if outcome.status == "skipped":
            if outcome.identical:
                same = translate("saving", "already saved as {name}").format(name=repr(outcome.path.name))
                return SaveItemResult(ref, "skipped", outcome.path, same)
            exists = translate("saving", "{name} already exists").format(name=repr(outcome.path.name))
            return SaveItemResult(ref, "skipped", outcome.path, exists)
        if on_saved is not None and not isinstance(data, CachedFile):
            try:
                on_saved(ref, outcome.path)
            except Exception as e:
                log.warning("after saving a picture: %s", _reason("{detail}", e))
        return SaveItemResult(ref, "saved", outcome.path, bytes=outcome.bytes)

    results: list[SaveItemResult | None] = [None] * len(refs)
    done = bytes_done = 0
    last_report = float("-inf")
    finished: queue.SimpleQueue[Future[SaveItemResult]] = queue.SimpleQueue()  # O(1) per completion
    threads = min(workers + max(1, workers // 2), max(len(refs), 1))
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="save") as pool:
        futures: dict[Future[SaveItemResult], int] = {}
        for i in range(len(refs)):
            future = pool.submit(one, i)
            futures[future] = i
            future.add_done_callback(finished.put)
        cancelled_rest = False
        try:
            while done < len(refs):
                with contextlib.suppress(queue.Empty):
                    future = finished.get(timeout=PROGRESS_INTERVAL)
                    i = futures[future]
                    result = cancelled(refs[i]) if future.cancelled() else future.result()
                    results[i] = result
                    done += 1
                    bytes_done += result.bytes
                    if on_result is not None:
                        on_result(result)
                if stop.is_set() and not cancelled_rest:
                    cancelled_rest = True
                    for future in futures:
                        future.cancel()  # not started yet: they come back as cancelled
                now = time.monotonic()
                if progress is not None and done < len(refs) and now - last_report >= PROGRESS_INTERVAL:
                    last_report = now
                    progress(SaveProgress(done, len(refs), bytes_done))
        except BaseException:
            stop.set()  # a failing progress callback or Ctrl+C: wind the workers down, then re-raise
            for future in futures:
                future.cancel()
            raise
    if progress is not None:
        progress(SaveProgress(done, len(refs), bytes_done))
    return SaveSummary([r for r in results if r is not None])

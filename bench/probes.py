"""Measuring from outside the product: memory, image GETs, and what the grid shows.

Nothing here changes product behaviour: the GET counter wraps ``Downloader.get`` and ``Downloader.get_range``
in the measured process only to note which picture each GET was for and how many bytes it brought, and the
grid probes only read the view and its model.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any
from urllib.parse import unquote, urlsplit

from PySide6.QtCore import QModelIndex, QPoint
from PySide6.QtWidgets import QListView

from kdocs_viewer.gui.picture_model import PicState, PixmapRole, StateRole


def proc_status_mb(field: str) -> float:
    """A ``/proc/self/status`` memory field in MB: ``VmHWM`` is the peak RSS, ``VmRSS`` the current one."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    raise KeyError(field)


class GetCounter:
    """Counts image GETs and the bytes they brought, per picture key, by wrapping ``Downloader.get`` and
    ``Downloader.get_range`` (the URL path ends in the key).

    Every request counts, failed ones too. A *duplicate* is a request that brought bytes of its picture
    that an earlier request had already brought (a whole GET after a head, a second whole GET); a head
    and then the rest after it are not duplicates. ``mark()`` returns a position for "since then".
    """

    def __init__(self) -> None:
        self.per_key: Counter[str] = Counter()
        self._events: list[list[Any]] = []  # [key, first byte, bytes received, ranged]
        self._lock = threading.Lock()

    def install(self) -> None:
        """For the rest of this (measured, short-lived) process. Imports the network stack (httpx), which
        the app itself imports after its first paint: call it when the scenario's clock allows that."""
        from kdocs_viewer.core.download import Body, Downloader

        plain, ranged = Downloader.get, Downloader.get_range
        counter = self

        def counted_get(self: Downloader, url: str, *args: Any, **kwargs: Any) -> bytes:
            event = counter._start(url, ranged=False)
            data = plain(self, url, *args, **kwargs)
            event[2] = len(data)
            return data

        def counted_range(self: Downloader, url: str, first: int, *args: Any, **kwargs: Any) -> Body:
            event = counter._start(url, ranged=True)
            body = ranged(self, url, first, *args, **kwargs)
            event[1], event[2] = body.start, len(body.data)
            return body

        Downloader.get = counted_get  # type: ignore[method-assign]
        Downloader.get_range = counted_range  # type: ignore[method-assign]

    def _start(self, url: str, *, ranged: bool) -> list[Any]:
        key = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        event: list[Any] = [key, 0, 0, ranged]
        with self._lock:
            self.per_key[key] += 1
            self._events.append(event)
        return event

    def mark(self) -> int:
        with self._lock:
            return len(self._events)

    def total(self) -> int:
        with self._lock:
            return len(self._events)

    def ranged(self) -> int:
        """Requests with a Range header (heads, their growth, the rest after a head)."""
        with self._lock:
            return sum(1 for e in self._events if e[3])

    def bytes_per_key(self) -> dict[str, int]:
        with self._lock:
            out: Counter[str] = Counter()
            for key, _, length, _ in self._events:
                out[key] += length
            return dict(out)

    def duplicates(self, since: int = 0) -> int:
        """Requests (after position ``since``) that brought bytes their picture already had."""
        with self._lock:
            events = list(self._events)
        seen: dict[str, list[tuple[int, int]]] = {}
        count = 0
        for index, (key, first, length, _) in enumerate(events):
            if not length:
                continue
            spans = seen.setdefault(key, [])
            end = first + length
            if any(first < e and s < end for s, e in spans) and index >= since:
                count += 1
            spans.append((first, end))
        return count

    def keys(self) -> set[str]:
        with self._lock:
            return set(self.per_key)


def visible_indexes(view: QListView, *, fully: bool) -> list[QModelIndex]:
    """Indexes whose tiles are on screen (``fully``: entirely inside the viewport) in view order.

    Independent of the grid's own visible-range maths: starts one line of tiles before the index under the
    viewport's top-left corner and walks forward until tiles start below the viewport.
    """
    viewport = view.viewport().rect()
    model = view.model()
    if model is None or model.rowCount() == 0:
        return []
    cell = max(1, view.gridSize().width())
    first = view.indexAt(QPoint(cell // 2, 1))  # a cell's middle: the tile is centred in a wider cell
    per_line = max(1, viewport.width() // cell) + 1
    row = max(0, (first.row() if first.isValid() else 0) - per_line)
    out: list[QModelIndex] = []
    rows = model.rowCount()
    while row < rows:
        index = model.index(row, 0)
        rect = view.visualRect(index)
        if rect.top() > viewport.bottom():
            break
        if rect.isValid() and (viewport.contains(rect) if fully else viewport.intersects(rect)):
            out.append(index)
        row += 1
    return out


def visible_row_span(view: QListView) -> range:
    """Rows on screen from two ``indexAt`` probes and the fixed grid (cheap enough for every frame).

    Relies on uniform cells laid out left to right, as the grid is; the first and last visible lines count
    whole, partly visible ones included.
    """
    model = view.model()
    count = model.rowCount() if model is not None else 0
    cell = view.gridSize()
    if count == 0 or cell.width() <= 0 or cell.height() <= 0:
        return range(0)
    viewport = view.viewport().rect()
    cols = max(1, (viewport.width() - 1) // cell.width())  # Qt wraps a cell reaching the last pixel
    x = cell.width() // 2
    top = view.indexAt(QPoint(x, 1))
    first = top.row() - top.row() % cols if top.isValid() else 0
    bottom = view.indexAt(QPoint(x, max(1, viewport.height() - 2)))
    if bottom.isValid():
        last = bottom.row() - bottom.row() % cols + cols - 1
    else:
        last = first + (viewport.height() // cell.height() + 2) * cols - 1
    return range(first, min(count, last + 1))


def has_thumbnail(index: QModelIndex) -> bool:
    return index.data(PixmapRole) is not None


def is_done(index: QModelIndex) -> bool:
    """Thumbnail shown, or a final failure shown."""
    return has_thumbnail(index) or index.data(StateRole) in (PicState.FAILED, PicState.FAILED.value)

"""The user's workbooks as Qt models, filled page by page off the GUI thread.

``FileListing`` owns one listing — the recent files, or all spreadsheets (kdocs-api.md §5) — with its
``FileListModel``. ``load()`` starts a worker that walks the server's pages (``core.files.pages`` and
``distinct_pages``: the same paging and the same "each file once" rule as ``kdocs-pics files``) and hands each
page to the GUI thread through a relay created there; rows appear as pages arrive. ``cancel()`` (the picker
closed) stops the worker before its next page and makes anything it still delivers stale.

``FileFilterProxy`` is the picker's search: ``core.files.filter_items`` decides which names match (every word,
any case), so the picker and ``kdocs-pics files --query`` agree; a pasted share link finds the file that
carries that link (``find_by_link``).

Only GUI-thread objects here; the worker touches no widget. ``core.files`` (and with it httpx) is imported
when a listing first loads, not when the window starts.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from enum import Enum
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QDateTime,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
    Slot,
)

from kdocs_viewer.gui.retired import retire
from kdocs_viewer.gui.worker_pool import WorkerPool

if TYPE_CHECKING:
    from kdocs_viewer.core.api import KDocsClient
    from kdocs_viewer.core.files import FileItem, FilePage

__all__ = [
    "FileFilterProxy",
    "FileListModel",
    "FileListing",
    "FileRole",
    "ListKind",
    "ListState",
    "SortRole",
]

AnyIndex = QModelIndex | QPersistentModelIndex

FileRole = int(Qt.ItemDataRole.UserRole) + 1  # the FileItem of the row
SortRole = int(Qt.ItemDataRole.UserRole) + 2  # what the column sorts by (name casefolded, mtime, shared)

COLUMN_NAME, COLUMN_MODIFIED, COLUMN_SHARED = range(3)


class ListKind(Enum):
    RECENT = "recent"  # personal/files/recent, spreadsheets only (it lists every kind of file)
    SPREADSHEETS = "spreadsheets"  # personal/files/flat with the spreadsheet extensions


class ListState(Enum):
    EMPTY = "empty"  # never loaded
    LOADING = "loading"
    DONE = "done"
    FAILED = "failed"  # ``FileListing.error`` says why
    STOPPED = "stopped"  # cancelled part-way: loaded afresh next time


class FileListModel(QAbstractTableModel):
    """Name, modified time (in the user's locale) and a "shared" marker per file; rows only ever appended."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[FileItem] = []

    def items(self) -> list[FileItem]:
        return list(self._items)

    def item(self, row: int) -> FileItem:
        return self._items[row]

    def clear(self) -> None:
        if self._items:
            self.beginResetModel()
            self._items = []
            self.endResetModel()

    def append(self, items: Iterable[FileItem]) -> None:
        new = list(items)
        if not new:
            return
        first = len(self._items)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        self._items.extend(new)
        self.endInsertRows()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else 3

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        return {
            COLUMN_NAME: self.tr("Name"),
            COLUMN_MODIFIED: self.tr("Modified"),
            COLUMN_SHARED: self.tr("Shared"),
        }.get(section)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        column = index.column()
        if role == FileRole:
            return item
        if role == Qt.ItemDataRole.DisplayRole:
            if column == COLUMN_NAME:
                return item.name
            if column == COLUMN_MODIFIED:
                return modified_text(item.mtime)
            return self.tr("shared with you") if item.shared and column == COLUMN_SHARED else ""
        if role == SortRole:
            if column == COLUMN_NAME:
                return item.name.casefold()
            if column == COLUMN_MODIFIED:
                return item.mtime or 0.0
            return int(item.shared)
        if role == Qt.ItemDataRole.ToolTipRole and column == COLUMN_NAME:
            return item.name + ("\n" + self.tr("Shared with you by its owner") if item.shared else "")
        return None


def modified_text(mtime: float | None) -> str:
    """A modification time as the user's locale writes a short date and time ("" when unknown)."""
    if mtime is None:
        return ""
    stamp = QDateTime.fromSecsSinceEpoch(int(mtime))
    return QLocale().toString(stamp, QLocale.FormatType.ShortFormat)


class FileFilterProxy(QSortFilterProxyModel):
    """The picker's search over a ``FileListModel``; see the module docstring. Sorts by ``SortRole``."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SortRole)
        self.setDynamicSortFilter(True)  # rows of later pages take their sorted place as they arrive
        self._query = ""
        self._link: str | None = None

    def set_query(self, text: str) -> None:
        from kdocs_viewer.core.files import share_link_id

        query = text.strip()
        if query == self._query:
            return
        self.beginFilterChange()
        self._query = query
        self._link = share_link_id(query)
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def query(self) -> str:
        return self._query

    def item(self, row: int) -> FileItem:
        """The file of a proxy row."""
        item = self.index(row, COLUMN_NAME).data(FileRole)
        assert item is not None
        return item

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        if not self._query:
            return True
        from kdocs_viewer.core.files import filter_items, find_by_link  # loaded with the first page

        model = self.sourceModel()
        if not isinstance(model, FileListModel):
            return True
        item = model.item(source_row)
        if self._link is not None:
            return find_by_link((item,), self._link) is not None
        return bool(filter_items((item,), self._query))


class _PageRelay(QObject):
    """Lives on the GUI thread; the worker emits through it (queued), never to a lambda."""

    page = Signal(int, object)  # (generation, FilePage)
    ended = Signal(int, object)  # (generation, BaseException | None)


class _ListingRun:
    def __init__(
        self,
        relay: _PageRelay,
        generation: int,
        fetch: Callable[[int], FilePage],
        cancel: threading.Event,
    ) -> None:
        self._relay = relay
        self._generation = generation
        self._fetch = fetch
        self._cancel = cancel

    def run(self) -> None:
        from kdocs_viewer.core.files import distinct_pages, pages

        error: BaseException | None = None
        try:
            for page in distinct_pages(pages(self._fetch, cancel=self._cancel)):
                if self._cancel.is_set():
                    break
                with contextlib.suppress(RuntimeError):  # the owner is gone: nobody waits for the page
                    self._relay.page.emit(self._generation, page)
        except Exception as exc:  # delivered to the GUI thread, never lost in a worker
            error = exc
        with contextlib.suppress(RuntimeError):
            self._relay.ended.emit(self._generation, error)


class FileListing(QObject):
    """One listing of the user's files and the worker that fills it; see the module docstring.

    ``changed`` fires when rows arrive or the state changes; ``pageArrived`` carries each page's new files
    (spreadsheets only) for whoever looks for one file (a share link, the current workbook's name).
    """

    changed = Signal()
    pageArrived = Signal(object)  # list[FileItem]

    def __init__(self, kind: ListKind, pool: WorkerPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.model = FileListModel(self)
        self._pool = pool
        self._relay = _PageRelay(self)
        self._relay.page.connect(self._on_page)
        self._relay.ended.connect(self._on_ended)
        self._generation = 0
        self._cancel: threading.Event | None = None
        self._state = ListState.EMPTY
        self._error: BaseException | None = None

    @property
    def state(self) -> ListState:
        return self._state

    @property
    def error(self) -> BaseException | None:
        """Why the last load failed (a ``KDocsError``, whose text is for people), else None."""
        return self._error

    def needs_load(self) -> bool:
        """Never loaded, or the last load did not finish."""
        return self._state in (ListState.EMPTY, ListState.FAILED, ListState.STOPPED)

    def load(self, client: KDocsClient) -> None:
        """Load the listing afresh: the rows go, pages come in as the worker gets them."""
        from kdocs_viewer.core.files import list_recent, list_spreadsheets

        self._stop()
        self._generation += 1
        self._cancel = cancel = threading.Event()
        self.model.clear()
        self._state, self._error = ListState.LOADING, None
        if self.kind is ListKind.RECENT:

            def fetch(offset: int) -> FilePage:
                return list_recent(client, offset=offset)

        else:

            def fetch(offset: int) -> FilePage:
                return list_spreadsheets(client, offset=offset)

        self._pool.start(_ListingRun(self._relay, self._generation, fetch, cancel).run)
        self.changed.emit()

    def cancel(self) -> None:
        """Stop a load in progress; the rows so far stay until the next load."""
        if self._state is ListState.LOADING:
            self._stop()
            self._state = ListState.STOPPED
            self.changed.emit()

    def shutdown(self) -> None:
        """(At close) Stop; the worker of a page still on the wire ends when the server answers, and what it
        reports through is kept until then (``gui.retired``)."""
        self.cancel()
        retire(self._relay, self._pool.busy)

    def _stop(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self._cancel = None
        self._generation += 1  # whatever the old worker still sends is stale

    @Slot(int, object)
    def _on_page(self, generation: int, page: object) -> None:
        if generation != self._generation:
            return
        items = list(getattr(page, "items", []))
        if self.kind is ListKind.RECENT:
            items = [item for item in items if item.is_spreadsheet]
        self.model.append(items)
        if items:
            self.pageArrived.emit(items)
        self.changed.emit()

    @Slot(int, object)
    def _on_ended(self, generation: int, error: object) -> None:
        if generation != self._generation:
            return
        self._cancel = None
        if isinstance(error, BaseException):
            self._state, self._error = ListState.FAILED, error
        else:
            self._state = ListState.DONE
        self.changed.emit()

""" "Open workbook…": the user's recent workbooks and all their spreadsheets, searchable, keyboard first.

A view over two ``FileListing``s (``gui.file_list``), one tab each; the listings belong to ``WorkbookOpener``,
which loads them, so the dialog only shows what they hold and says what they are doing. The search box
filters both lists locally (no API call per keystroke); Down moves from it into the list; Enter opens the
current row (the top one while the search box has the focus), as does a double-click.

It asks for nothing itself: ``listWanted`` (a tab shown whose list was never loaded), ``refreshRequested``
and ``chosen`` go to the opener.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kdocs_viewer.core.redact import redact
from kdocs_viewer.gui import theme
from kdocs_viewer.gui.file_list import (
    COLUMN_MODIFIED,
    COLUMN_NAME,
    COLUMN_SHARED,
    FileFilterProxy,
    FileListing,
    ListKind,
    ListState,
)

if TYPE_CHECKING:
    from kdocs_viewer.core.files import FileItem

__all__ = ["WorkbookPicker"]

_VIEW_NAMES = {ListKind.RECENT: "recentList", ListKind.SPREADSHEETS: "spreadsheetList"}
_NAVIGATION_KEYS = (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp)


class WorkbookPicker(QDialog):
    """See the module docstring. ``listings`` are shown in their order (recent first)."""

    chosen = Signal(object)  # FileItem: the user opened it
    listWanted = Signal(object)  # ListKind: shown, and never loaded (or its last load did not finish)
    refreshRequested = Signal(object)  # ListKind: load it again

    def __init__(self, listings: dict[ListKind, FileListing], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("workbookPicker")
        self.setWindowTitle(self.tr("Open workbook"))
        self.resize(720, 480)
        self._listings = listings
        self._proxies: dict[ListKind, FileFilterProxy] = {}
        self._views: dict[ListKind, QTableView] = {}
        self._opened = False

        self.search = QLineEdit(self)
        self.search.setObjectName("workbookSearch")
        self.search.setPlaceholderText(self.tr("Search your workbooks by name (or paste a share link)"))
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_search)
        self.search.installEventFilter(self)

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("workbookTabs")
        titles = {ListKind.RECENT: self.tr("Recent"), ListKind.SPREADSHEETS: self.tr("All spreadsheets")}
        for kind, listing in listings.items():
            view = self._make_view(kind, listing)
            self.tabs.addTab(view, titles[kind])
            listing.changed.connect(self._update_status)
        self.tabs.currentChanged.connect(self._on_tab_changed)

        self.status = QLabel(self)
        self.status.setObjectName("pickerStatus")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)

        self.buttons = QDialogButtonBox(self)
        self.open_button = self.buttons.addButton(self.tr("Open"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.open_button.setObjectName("pickerOpen")
        self.open_button.setDefault(True)
        self.refresh_button = QPushButton(self.tr("Refresh"), self)
        self.refresh_button.setObjectName("pickerRefresh")
        self.refresh_button.setToolTip(self.tr("Ask KDocs for this list again"))
        self.buttons.addButton(self.refresh_button, QDialogButtonBox.ButtonRole.ResetRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.open_button.clicked.connect(self.open_current)
        self.refresh_button.clicked.connect(self._on_refresh)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.search.setFocus()
        self._update_status()

    def _make_view(self, kind: ListKind, listing: FileListing) -> QTableView:
        proxy = FileFilterProxy(self)
        proxy.setSourceModel(listing.model)
        view = QTableView(self)
        view.setObjectName(_VIEW_NAMES[kind])
        view.setModel(proxy)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setShowGrid(False)
        view.setWordWrap(False)
        view.setAlternatingRowColors(True)
        view.verticalHeader().hide()
        view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # uniform rows: fast
        header = view.horizontalHeader()
        header.setSectionResizeMode(COLUMN_NAME, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COLUMN_MODIFIED, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COLUMN_SHARED, QHeaderView.ResizeMode.ResizeToContents)
        view.setSortingEnabled(True)
        view.sortByColumn(COLUMN_MODIFIED, Qt.SortOrder.DescendingOrder)  # newest first, as "recent" is
        view.doubleClicked.connect(self._on_double_clicked)
        proxy.rowsInserted.connect(self._update_status)
        proxy.modelReset.connect(self._update_status)
        self._proxies[kind] = proxy
        self._views[kind] = view
        return view

    # ------------------------------------------------------------------------------------------------------
    # what is shown

    def current_kind(self) -> ListKind:
        return list(self._listings)[max(0, self.tabs.currentIndex())]

    def view(self, kind: ListKind) -> QTableView:
        return self._views[kind]

    def shown_items(self, kind: ListKind | None = None) -> list[FileItem]:
        """The files a list shows now, in its order (the current tab's by default)."""
        proxy = self._proxies[kind or self.current_kind()]
        return [proxy.item(row) for row in range(proxy.rowCount())]

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._want(self.current_kind())

    def _want(self, kind: ListKind) -> None:
        if self._listings[kind].needs_load():
            self.listWanted.emit(kind)

    @Slot(int)
    def _on_tab_changed(self, _index: int) -> None:
        self._want(self.current_kind())
        self._update_status()

    @Slot(str)
    def _on_search(self, text: str) -> None:
        for proxy in self._proxies.values():
            proxy.set_query(text)
        self._update_status()

    @Slot()
    def _update_status(self) -> None:
        kind = self.current_kind()
        listing = self._listings[kind]
        shown = self._proxies[kind].rowCount()
        total = listing.model.rowCount()
        state = listing.state
        error = ""
        if state is ListState.FAILED and listing.error is not None:
            error = self._error_text(listing.error)
        if error:
            text = error
        elif state is ListState.LOADING:
            text = self.tr("Loading your workbooks… %1 so far").replace("%1", f"{total:,}")
        elif state is ListState.STOPPED:
            text = self.tr("Loading stopped at %1 workbooks; Refresh loads them all.")
            text = text.replace("%1", f"{total:,}")
        elif state is ListState.EMPTY:
            text = ""
        elif not total:
            text = self.tr("No workbooks in this list.")
        elif self.search.text().strip():
            text = self.tr("%1 of %2 workbooks match.")
            text = text.replace("%1", f"{shown:,}").replace("%2", f"{total:,}")
        else:
            text = self.tr("%1 workbooks.").replace("%1", f"{total:,}")
        self.status.setText(text)
        self.status.setProperty("kind", "error" if error else "")
        self.status.setStyleSheet(
            f"QLabel#pickerStatus {{ {theme.error_text_style(self.status)} }}" if error else ""
        )
        self.open_button.setEnabled(shown > 0)

    def _error_text(self, error: BaseException) -> str:
        from kdocs_viewer.core.api import TokenInvalidError  # the listing that failed imported it

        if isinstance(error, TokenInvalidError):
            return self.tr(
                "KDocs refused the access token (it may have expired). Enter a new one and the list loads "
                "again."
            )
        return self.tr("Could not list your workbooks: %1").replace("%1", redact(str(error)))

    # ------------------------------------------------------------------------------------------------------
    # opening

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in _NAVIGATION_KEYS and event.modifiers() == Qt.KeyboardModifier.NoModifier:
                self._enter_list()
                return True
        return super().eventFilter(watched, event)

    def _enter_list(self) -> None:
        """Down from the search box: the focus goes to the list, on its first row if none is current."""
        view = self._views[self.current_kind()]
        proxy = self._proxies[self.current_kind()]
        view.setFocus(Qt.FocusReason.TabFocusReason)
        if not view.currentIndex().isValid() and proxy.rowCount():
            view.setCurrentIndex(proxy.index(0, COLUMN_NAME))

    def current_item(self) -> FileItem | None:
        """What Enter opens: the list's current row, or its top row while the search box has the focus."""
        kind = self.current_kind()
        view, proxy = self._views[kind], self._proxies[kind]
        if not proxy.rowCount():
            return None
        index = view.currentIndex()
        if self.search.hasFocus() or not index.isValid():
            return proxy.item(0)
        return proxy.item(index.row())

    @Slot()
    def open_current(self) -> None:
        item = self.current_item()
        if item is not None:
            self._open(item)

    @Slot(QModelIndex)
    def _on_double_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self._open(self._proxies[self.current_kind()].item(index.row()))

    def _open(self, item: FileItem) -> None:
        if self._opened:  # Enter in a list also reaches the default button: open once
            return
        self._opened = True
        self.chosen.emit(item)
        self.accept()

    @Slot()
    def _on_refresh(self) -> None:
        self.refreshRequested.emit(self.current_kind())

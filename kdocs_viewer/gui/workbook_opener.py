"""Opening a workbook by what people know of it: its name in their file lists, a share link, the last one.

``WorkbookOpener`` owns "Open workbook…" (Ctrl+O): the two file listings (``gui.file_list``, loaded off the
GUI thread by its own pool, kept for the session, loaded again by Refresh) and the picker dialog that shows
them. What the user picks leaves as ``workbookChosen(name, file token)``; the input panel finds its pictures.

A KDocs share link names a link, not a file, and no documented API maps one to the other (kdocs-api.md §5):
``look_up_link`` opens the file whose link it is when the recent list knows it (the stand-in's items carry
their link), and otherwise says so plainly and offers the picker.

The last workbook opened (its name and file token — never the user's access token) is remembered per API
server (``remember``/``last_workbook``); the in-process demo server's workbook is not.

A token the server refuses while the picker lists files goes to ``TokenController.reject``, like any other
refusal; the listing loads again once a new token is set. Lists loaded quietly (a share link looked up, the
demo's) never prompt: their error shows when the user opens the picker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from kdocs_viewer.core.quota import server_key
from kdocs_viewer.gui import settings as S
from kdocs_viewer.gui.settings import AppSettings
from kdocs_viewer.gui.token_controller import TokenController
from kdocs_viewer.gui.worker_pool import WorkerPool

if TYPE_CHECKING:  # the lists and the picker load when they are first needed, after the first paint
    from kdocs_viewer.core.files import FileItem
    from kdocs_viewer.gui.file_list import FileListing, ListKind
    from kdocs_viewer.gui.workbook_picker import WorkbookPicker

__all__ = ["WorkbookOpener"]


class WorkbookOpener(QObject):
    """See the module docstring. ``dialog_parent`` is the window the picker belongs to."""

    workbookChosen = Signal(str, str)  # (name, file token): open it
    namesListed = Signal(object)  # list[FileItem] just listed: who shows a file token may learn its name
    message = Signal(str, str)  # (kind, text) for the message area
    callsMade = Signal()  # file-list calls were made (the status bar counts them)

    def __init__(
        self,
        token: TokenController,
        settings: AppSettings,
        dialog_parent: QWidget,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._token = token
        self._settings = settings
        self._dialog_parent = dialog_parent
        self._pool = WorkerPool("kdocs-listing", 2)  # daemons: a listing on the wire is never waited for
        self._listings: dict[ListKind, FileListing] = {}
        self._picker: WorkbookPicker | None = None
        self._rejected: set[ListKind] = set()  # listings whose refusal went to the token controller
        self._link: tuple[str, bool] | None = None  # a share link waiting for the recent list: (id, asked)
        self._closed = False

        self.open_action = QAction(self.tr("&Open workbook…"), self)
        self.open_action.setObjectName("openWorkbookAction")
        self.open_action.setShortcuts(QKeySequence.StandardKey.Open)
        self.open_action.setToolTip(self.tr("Choose one of your workbooks and show its pictures (Ctrl+O)"))
        self.open_action.triggered.connect(self.open_picker)

    # ------------------------------------------------------------------------------------------------------
    # the listings

    def listing(self, kind: ListKind) -> FileListing:
        """The listing of ``kind``, made on first use (not loaded)."""
        listing = self._listings.get(kind)
        if listing is None:
            from kdocs_viewer.gui.file_list import FileListing

            listing = FileListing(kind, self._pool, self)
            listing.changed.connect(self._on_listing_changed)
            listing.pageArrived.connect(self._on_page)
            self._listings[kind] = listing
        return listing

    @Slot(object)
    def load(self, kind: ListKind) -> None:
        """Load a listing (again) with the window's token; asks for a token first when there is none."""
        if self._closed:
            return
        client = self._token.client()
        if client is None or not self._token.has_token():
            if self._token.ensure(lambda: self.load(kind)):
                self.load(kind)
            return
        self._rejected.discard(kind)
        self.listing(kind).load(client)

    def preload(self) -> None:
        """Load the recent list now, quietly (the demo: its workbooks are there when the picker opens)."""
        from kdocs_viewer.gui.file_list import ListKind

        if self._token.has_token() and self.listing(ListKind.RECENT).needs_load():
            self.load(ListKind.RECENT)

    @Slot()
    def _on_listing_changed(self) -> None:
        from kdocs_viewer.gui.file_list import ListKind, ListState

        self.callsMade.emit()
        for listing in self._listings.values():
            self._report_refusal(listing)
        recent = self._listings.get(ListKind.RECENT)
        if self._link is not None and recent is not None and recent.state is not ListState.LOADING:
            link_id, asked = self._link
            self._link = None
            if recent.state is ListState.DONE:
                self._link_not_listed(link_id, asked)
            elif recent.state is ListState.FAILED:
                self._link_not_looked_up(link_id, asked, recent.error)

    def _report_refusal(self, listing: FileListing) -> None:
        from kdocs_viewer.core.api import TokenInvalidError  # the failed listing imported it
        from kdocs_viewer.gui.file_list import ListState

        refused = listing.state is ListState.FAILED and isinstance(listing.error, TokenInvalidError)
        if refused and self._picker is not None and listing.kind not in self._rejected:
            self._rejected.add(listing.kind)
            self._token.reject(retry=self._load_refused)

    def _load_refused(self) -> None:
        """A new token after a refusal: the lists the picker shows load again (if it is still open)."""
        if self._picker is None:
            self._rejected.clear()
            return
        for kind in list(self._rejected):
            self.load(kind)

    @Slot(object)
    def _on_page(self, items: list[FileItem]) -> None:
        self.namesListed.emit(items)
        if self._link is None:
            return
        from kdocs_viewer.core.files import find_by_link

        found = find_by_link(items, self._link[0])
        if found is not None:
            self._link = None
            self.workbookChosen.emit(found.name, found.file_token)

    # ------------------------------------------------------------------------------------------------------
    # the picker

    @Slot()
    def open_picker(self) -> None:
        """Show the picker (one at a time); it needs a token to list anything, so one is asked for first."""
        if self._closed:
            return
        if self._picker is not None:
            self._picker.raise_()
            self._picker.activateWindow()
            return
        if not self._token.ensure(self.open_picker):
            return
        from kdocs_viewer.gui.file_list import ListKind
        from kdocs_viewer.gui.workbook_picker import WorkbookPicker

        picker = WorkbookPicker({kind: self.listing(kind) for kind in ListKind}, self._dialog_parent)
        picker.chosen.connect(self._on_chosen)
        picker.listWanted.connect(self.load)
        picker.refreshRequested.connect(self.load)
        picker.finished.connect(self._on_picker_finished)
        self._picker = picker
        picker.open()

    @Slot(object)
    def _on_chosen(self, item: FileItem) -> None:
        self.workbookChosen.emit(item.name, item.file_token)

    @Slot(int)
    def _on_picker_finished(self, _result: int) -> None:
        """Closing the picker stops the lists it was loading (what arrived stays for the next time)."""
        from kdocs_viewer.gui.file_list import ListKind

        picker, self._picker = self._picker, None
        for listing in self._listings.values():
            if not (self._link is not None and listing.kind is ListKind.RECENT):
                listing.cancel()
        if picker is not None:
            picker.deleteLater()

    # ------------------------------------------------------------------------------------------------------
    # share links

    def look_up_link(self, link_id: str, asked: bool) -> None:
        """A share link where a file token was expected: open its workbook when the recent list knows the
        link (loaded for this, quietly, when a token is at hand); else explain, and with ``asked`` (the user
        pressed Find) open the picker."""
        from kdocs_viewer.core.files import find_by_link, share_link_explanation
        from kdocs_viewer.gui.file_list import ListKind, ListState

        if self._closed:
            return
        recent = self.listing(ListKind.RECENT)
        found = find_by_link(recent.model.items(), link_id)
        if found is not None:
            self._link = None
            self.workbookChosen.emit(found.name, found.file_token)
        elif recent.state is ListState.DONE:
            self._link_not_listed(link_id, asked)
        elif recent.state is ListState.LOADING:
            self._link = (link_id, asked or bool(self._link and self._link[1]))
        elif self._token.has_token():
            self._link = (link_id, asked)
            self.message.emit(
                "info",
                share_link_explanation(link_id) + "\n" + self.tr("Looking for it among your recent files…"),
            )
            self.load(ListKind.RECENT)
        elif asked:
            self.open_picker()

    def _link_not_listed(self, link_id: str, asked: bool) -> None:
        from kdocs_viewer.core.files import share_link_explanation

        more = self.tr("It is not among your recent files either: choose the workbook with “Open workbook…”.")
        self.message.emit("warning", share_link_explanation(link_id) + "\n" + more)
        if asked:
            self.open_picker()

    def _link_not_looked_up(self, link_id: str, asked: bool, error: BaseException | None) -> None:
        from kdocs_viewer.core.files import share_link_explanation
        from kdocs_viewer.core.redact import redact

        more = self.tr("Your recent files could not be listed to look for it: %1").replace(
            "%1", redact(str(error or ""))
        )
        self.message.emit("warning", share_link_explanation(link_id) + "\n" + more)
        if asked:
            self.open_picker()

    # ------------------------------------------------------------------------------------------------------
    # the last workbook

    def remember(self, name: str, file_token: str) -> None:
        """Keep this workbook as the one to reopen at the next start (not the demo server's)."""
        if not file_token or self._token.is_demo():
            return
        self._settings.set(S.LAST_WORKBOOK_NAME, name)
        self._settings.set(S.LAST_WORKBOOK_FILE, file_token)
        self._settings.set(S.LAST_WORKBOOK_SERVER, server_key(self._token.base_url()))

    def last_workbook(self) -> tuple[str, str] | None:
        """(name, file token) of the workbook last opened on this API server, if any."""
        file_token = self._settings.get(S.LAST_WORKBOOK_FILE)
        if not file_token or self._settings.get(S.LAST_WORKBOOK_SERVER) != server_key(self._token.base_url()):
            return None
        return self._settings.get(S.LAST_WORKBOOK_NAME), file_token

    # ------------------------------------------------------------------------------------------------------
    # closing

    def shutdown(self) -> None:
        """Close the picker, stop the listings; never waits for a page on the wire. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._link = None
        if self._picker is not None:
            self._picker.reject()
        self._pool.shutdown(wait=False)
        for listing in self._listings.values():
            listing.shutdown()

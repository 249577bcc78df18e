"""The main window: menus, the status bar, and the parts it wires together.

Each flow lives in its own part: the token's life cycle in ``TokenController``, signing in with KDocs in
``SignInController``, the workbook, pic list, Find and Load in ``InputPanel``, "Open workbook…", share links
and the last workbook in ``WorkbookOpener``, "Save selected…" / "Save all…" in ``SaveController``, the
pictures in ``PictureBrowser``, the tiles' context menu in ``TileMenu``, the filter / tile-size / retry keys,
Copy and Select all, full screen, the Language menu and the Help dialogs (About too) in ``menus``.
The window builds them, puts them on screen, connects their signals and closes them; it holds no flow of its
own. (Vorta's main window is the model: it wires tabs that each own one job.)

What it guarantees:
- it shows at once: nothing the first paint does not need is imported or done before it (the keyring lookup,
  file reading and "Find pictures" run off the GUI thread and answer on it);
- its face is the workbook's name above the grid; the pic list is a side panel shown on demand;
- keyring news never hides an error about the input (``MessageArea.show_notice``);
- every worker of every part is cancelled in ``closeEvent`` (idempotent), the browser's too; none is waited
  for on the network (``gui.retired``), so the window goes at once even on a dead line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.redact import redact
from kdocs_viewer.gui import settings as S
from kdocs_viewer.gui.actions import make_action
from kdocs_viewer.gui.api_usage import ApiUsage
from kdocs_viewer.gui.browser import PictureBrowser
from kdocs_viewer.gui.input_panel import InputPanel
from kdocs_viewer.gui.menus import BrowserActions, EditActions, LanguageMenu, WindowActions
from kdocs_viewer.gui.pic_list_editor import local_file
from kdocs_viewer.gui.save_controller import SaveController
from kdocs_viewer.gui.settings import AppSettings
from kdocs_viewer.gui.signin_controller import SignInController
from kdocs_viewer.gui.status_bar import StatusBar
from kdocs_viewer.gui.thumbnail_cache_actions import ThumbnailCacheActions
from kdocs_viewer.gui.tile_menu import TileMenu
from kdocs_viewer.gui.token_controller import TokenController
from kdocs_viewer.gui.workbook_opener import WorkbookOpener

if TYPE_CHECKING:
    from kdocs_viewer.core.auth import AppCredentials
    from kdocs_viewer.core.secrets import TokenStore

__all__ = ["MainWindow"]


class MainWindow(QMainWindow):
    """See the module docstring. ``start_demo`` and ``begin`` are the two ways a session starts.

    The parts are public: ``token``, ``signin``, ``input``, ``opener``, ``saver``, ``browser`` and ``status``.
    """

    def __init__(
        self,
        *,
        app_settings: AppSettings | None = None,
        token_store: TokenStore | None = None,
        base_url: str | None = None,
        language: str = "en",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = app_settings if app_settings is not None else AppSettings()
        base_url = base_url or self.settings.get(S.BASE_URL)
        self._language = language
        self._usage = ApiUsage(self.settings, base_url)
        self._selection_count = 0
        self._closed = False

        self.setWindowTitle(self.tr("KDocs picture viewer"))
        self.setAcceptDrops(True)
        self.token = TokenController(base_url, token_store, self, self)
        self.signin = SignInController(self.token, self.settings, self, language=language, parent=self)
        self.token.set_sign_in_prompt(self.signin)
        self.input = InputPanel(self.token, self.settings, self._daily_limit, self)
        self.opener = WorkbookOpener(self.token, self.settings, self, self)
        self.browser = PictureBrowser(self)
        self.saver = SaveController(self.browser, self.settings, self, self)
        self.status = StatusBar(self)
        self.setStatusBar(self.status)

        self._build_central()
        self._build_actions()
        self._wire()
        self._restore_settings()
        self._on_token_changed()
        self._on_account_changed()
        self._update_actions()
        self._update_status()

    # ------------------------------------------------------------------------------------------------------
    # construction

    def _build_central(self) -> None:
        self.placeholder = QLabel(
            self.tr(
                "No pictures yet.\n\nClick “Open workbook…” (Ctrl+O) to choose one of your workbooks, or"
                " enter its file token and click “Find pictures in workbook”.\nA pic list can be imported"
                " from the File menu or dropped on the window."
            ),
            self,
        )
        self.placeholder.setObjectName("placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setEnabled(False)
        self.stack = QStackedWidget(self)
        self.stack.setObjectName("pictureStack")
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.browser)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.input)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(0, False)  # the panel is hidden with its toggle, not squeezed to nothing
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes([320, 900])

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.input.bar)
        messages = QVBoxLayout()
        messages.setContentsMargins(8, 0, 8, 0)
        messages.addWidget(self.input.message_area)
        layout.addLayout(messages)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

    def _action(self, text: str, slot: Callable[..., object], shortcut: str) -> QAction:
        action = make_action(self, text, slot, shortcut)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.save_action = self._action(self.tr("&Save selected…"), self.saver.save_selected, "Ctrl+S")
        self.save_all_action = self._action(self.tr("Save a&ll…"), self.saver.save_all, "Ctrl+Shift+S")
        self.save_all_action.setObjectName("saveAllAction")
        self.token_action = self._action(self.tr("Set access &token…"), self.token.ask, "Ctrl+T")
        self.quit_action = self._action(self.tr("&Quit"), self.close, "Ctrl+Q")
        self.refresh_action = QAction(self.tr("&Refresh links before they expire"), self)
        self.refresh_action.setCheckable(True)
        self.refresh_action.toggled.connect(self._on_refresh_toggled)
        self.browser_actions = BrowserActions(self.browser, self)
        self.edit_actions = EditActions(self.browser, self)
        self.copy_action = self.edit_actions.copy_action
        self.select_all_action = self.edit_actions.select_all_action
        self.window_actions = WindowActions(self)
        self.languages = LanguageMenu(self.settings, self._language, self)
        self.language_actions = self.languages.by_language
        self.tile_menu = TileMenu(self.browser, self.saver, self)
        for action in (
            self.opener.open_action,
            self.input.open_action,
            self.input.panel_action,
            self.input.find_action,
            self.input.load_action,
            *self.browser_actions.actions(),
            *self.edit_actions.actions(),
            *self.window_actions.actions(),
        ):
            self.addAction(action)
        self.input.bar.set_actions(self.opener.open_action, self.input.panel_action)

        menu_bar = self.menuBar()
        file_menu = menu_bar.addMenu(self.tr("&File"))
        file_menu.addAction(self.opener.open_action)
        file_menu.addAction(self.input.open_action)
        file_menu.addSeparator()
        file_menu.addAction(self.save_action)
        file_menu.addAction(self.save_all_action)
        file_menu.addSeparator()
        file_menu.addAction(self.token_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        account_menu = menu_bar.addMenu(self.tr("&Account"))
        account_menu.addAction(self.signin.sign_in_action)
        account_menu.addAction(self.signin.sign_out_action)

        workbook_menu = menu_bar.addMenu(self.tr("&Workbook"))
        workbook_menu.addAction(self.input.find_action)
        workbook_menu.addAction(self.input.load_action)
        workbook_menu.addAction(self.browser_actions.retry_action)
        workbook_menu.addSeparator()
        workbook_menu.addAction(self.refresh_action)

        edit_menu = menu_bar.addMenu(self.tr("&Edit"))
        edit_menu.addAction(self.copy_action)
        edit_menu.addAction(self.select_all_action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.browser_actions.filter_action)

        view_menu = menu_bar.addMenu(self.tr("&View"))
        view_menu.addAction(self.input.panel_action)
        view_menu.addSeparator()
        view_menu.addAction(self.browser_actions.bigger_action)
        view_menu.addAction(self.browser_actions.smaller_action)
        view_menu.addAction(self.window_actions.full_screen_action)
        view_menu.addSeparator()
        self.thumbnail_cache = ThumbnailCacheActions(self.browser, self.settings, self)
        view_menu.addActions(self.thumbnail_cache.actions())
        view_menu.addSeparator()
        self.languages.add_to(view_menu)

        help_menu = menu_bar.addMenu(self.tr("&Help"))
        help_menu.addAction(self.window_actions.shortcuts_action)
        help_menu.addAction(self.window_actions.readme_action)
        help_menu.addSeparator()
        help_menu.addAction(self.window_actions.about_action)

    def _wire(self) -> None:
        self.token.changed.connect(self._on_token_changed)
        self.token.tokenReplaced.connect(self.browser.resume)
        self.signin.changed.connect(self._on_account_changed)
        self.signin.message.connect(self.input.show_message)
        self.signin.notice.connect(self.input.show_notice)
        self.token.message.connect(self.input.show_message)
        self.token.notice.connect(self.input.show_notice)
        self.input.loadRequested.connect(self._start_browser)
        self.input.findFinished.connect(self._update_status)
        self.input.workbookChanged.connect(self._on_workbook_changed)
        self.input.workbookRead.connect(self.opener.remember)
        self.input.shareLinkEntered.connect(self.opener.look_up_link)
        self.input.panel_action.toggled.connect(self._on_panel_toggled)
        self.opener.workbookChosen.connect(self.input.open_workbook)
        self.opener.namesListed.connect(self.input.learn_names)
        self.opener.message.connect(self.input.show_message)
        self.opener.callsMade.connect(self._update_status)
        self.saver.started.connect(self._update_actions)
        self.saver.saveFinished.connect(self._update_actions)
        self.saver.message.connect(self.input.show_message)
        self.saver.note.connect(self._on_note)
        self.browser.noted.connect(self._on_note)
        self.browser.saveRequested.connect(self.saver.save_refs)
        self.browser.tileMenuRequested.connect(self.tile_menu.popup)
        self.tile_menu.note.connect(self._on_note)
        self.browser.tokenRejected.connect(self.token.reject)
        self.browser.statusChanged.connect(self._update_status)
        self.browser.errorOccurred.connect(self._on_browser_error)
        self.browser.selectionCountChanged.connect(self._on_selection_count)
        self.browser.tileSizeChanged.connect(self._on_tile_size)
        self.status.tokenClicked.connect(self.token.ask)
        self.status.signInClicked.connect(self.signin.sign_in_action.trigger)
        self.status.signOutClicked.connect(self.signin.sign_out)

    def _restore_settings(self) -> None:
        geometry = self.settings.get(S.GEOMETRY)
        if not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 820)
        state = self.settings.get(S.WINDOW_STATE)
        if not state.isEmpty():
            self.restoreState(state)
        splitter = self.settings.get(S.SPLITTER)
        if not splitter.isEmpty():
            self.splitter.restoreState(splitter)
        tile = self.settings.get(S.TILE_SIZE)
        if tile > 0:
            self.browser.set_tile_size(tile)
        refresh = self.settings.get(S.REFRESH)
        self.refresh_action.setChecked(refresh)
        self.browser.set_refresh_enabled(refresh)

    # ------------------------------------------------------------------------------------------------------
    # starting a session

    def begin(self, *, file_token: str = "", pics_file: str | None = None) -> None:
        """Normal start, called right after ``show()``: look the sign-in and the token up off-thread (with
        neither, the sign-in dialog invites the user in), fill in what the command line gave, and load as
        soon as both a pic list and a token are there. Without either, the workbook of the last session is
        shown and reopened once a token is at hand."""
        last = self.opener.last_workbook()
        if file_token:
            self.input.set_file_token(file_token)
        elif last is not None and not pics_file:
            self.input.restore_workbook(*last)
        self.signin.look_up()
        self.token.look_up()
        if pics_file:
            self.input.open_file(Path(pics_file), load=True)

    def start_demo(self, base_url: str, app: AppCredentials, file_token: str) -> None:
        """Use an in-process stand-in server: sign in to it for real with its demo ``app`` (a scripted
        browser consents; the sign-in is kept for this session only, never in the keyring), then find the
        pictures of ``file_token``."""
        self._usage = ApiUsage(self.settings, base_url, remember=False)
        self.token.use_demo(base_url)
        self.signin.use_demo(app)
        self.input.set_file_token(file_token)
        self.input.find_pictures()  # waits for the sign-in
        # The demo's other workbooks are there when the picker opens (and the demo workbook gets its name)
        # once the sign-in has given a token.
        self.signin.signedIn.connect(self._on_demo_signed_in)

    def show_message(self, kind: str, text: str) -> None:
        """Tell the user something about their input (kind: info, warning, error)."""
        self.input.show_message(kind, text)

    @Slot(str, object)
    def _start_browser(self, file_token: str, refs: list[PicRef]) -> None:
        client = self.token.client()
        assert client is not None  # Load asked the token controller first
        self.stack.setCurrentWidget(self.browser)
        self.browser.start(client, file_token, refs)
        self._update_actions()
        self._update_status()

    def _daily_limit(self) -> int | None:
        return self._usage.update(self.token.client())[1]

    # ------------------------------------------------------------------------------------------------------
    # what the parts report

    @Slot()
    def _on_token_changed(self) -> None:
        self.status.show_token(*self.token.status())

    @Slot()
    def _on_account_changed(self) -> None:
        self.status.show_account(*self.signin.account_status())

    @Slot(str)
    def _on_demo_signed_in(self, _name: str) -> None:
        self.opener.preload()

    @Slot(str, str)
    def _on_workbook_changed(self, name: str, _file_token: str) -> None:
        title = self.tr("KDocs picture viewer")
        self.setWindowTitle(f"{name} — {title}" if name else title)

    @Slot(bool)
    def _on_panel_toggled(self, shown: bool) -> None:
        sizes = self.splitter.sizes()
        if shown and sizes[0] <= 0:  # hidden when the sizes were last saved: give it its usual width
            self.splitter.setSizes([320, max(400, sum(sizes) - 320)])

    @Slot(str)
    def _on_browser_error(self, text: str) -> None:
        # The message area, not a 10-second status-bar note: the user may be looking elsewhere.
        self.input.show_message("error", redact(text))

    @Slot(str)
    def _on_note(self, text: str) -> None:
        self.status.showMessage(text, 5000)

    @Slot(int)
    def _on_selection_count(self, count: int) -> None:
        self._selection_count = count
        self._update_actions()
        self._update_status()

    @Slot(int)
    def _on_tile_size(self, px: int) -> None:
        self.settings.set(S.TILE_SIZE, int(px))

    @Slot()
    def _update_actions(self) -> None:
        has_session = self.browser.session() is not None
        idle = has_session and not self.saver.is_running()
        self.save_action.setEnabled(idle and self._selection_count > 0)
        self.save_all_action.setEnabled(idle)

    @Slot()
    def _update_status(self) -> None:
        if self._closed:
            return
        self.status.show_stats(self.browser.stats())
        self.status.show_selection(self._selection_count)
        self.status.show_usage(*self._usage.update(self.token.client()))

    # ------------------------------------------------------------------------------------------------------
    # view

    @Slot(bool)
    def _on_refresh_toggled(self, on: bool) -> None:
        self.browser.set_refresh_enabled(on)
        self.settings.set(S.REFRESH, bool(on))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_file(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        path = local_file(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.input.open_file(path)
        else:
            super().dropEvent(event)

    # ------------------------------------------------------------------------------------------------------
    # closing

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop every worker (never waiting on the network), save the settings. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self.input.cancel()
        self.saver.cancel()
        self.opener.shutdown()
        self.browser.shutdown()
        self.saver.shutdown()
        self.input.shutdown()
        self._usage.save(self.token.client())
        self.signin.shutdown()
        self.token.shutdown()
        self._save_window_settings()

    def _save_window_settings(self) -> None:
        self.settings.set(S.GEOMETRY, QByteArray(self.saveGeometry()))
        self.settings.set(S.WINDOW_STATE, QByteArray(self.saveState()))
        self.settings.set(S.SPLITTER, QByteArray(self.splitter.saveState()))
        self.settings.set(S.TILE_SIZE, int(self.browser.tile_size()))
        self.settings.set(S.REFRESH, self.refresh_action.isChecked())
        if not self.token.is_demo():
            self.settings.set(S.BASE_URL, self.token.base_url())
        self.settings.sync()

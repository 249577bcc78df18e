"""The main window: input panel, picture browser, menus, status bar, and the token's life cycle.

What it guarantees:
- it shows at once: the keyring lookup, file reading and "Find pictures" run off the GUI thread and answer
  on it (``KeyringBridge``, ``BackgroundCalls``); nothing here blocks on the network or the keyring;
- a pic list that does not parse keeps the user's text untouched; the message names the line and the editor
  jumps there (highlighted, not selected, so the next keystroke cannot wipe it);
- a list too big to edit is summarised, not put in the editor, and one that costs many API calls is asked
  about before the first call (``pic_input``); keyring news never hides an error about the input;
- on a rejected token (20007) it asks once for a new token and hands it to the browser, which keeps the list
  and the selection; the token itself goes only to the client and (if asked) the keyring — never into the
  settings, a title, a tooltip or a log;
- every worker it starts is cancelled and joined in ``closeEvent`` (idempotent), with the browser's own.
"""

from __future__ import annotations

import logging
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import QByteArray, QMimeData, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kdocs_viewer import __version__
from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.quota import calls_to_resolve
from kdocs_viewer.core.redact import redact
from kdocs_viewer.gui import settings as S
from kdocs_viewer.gui.api_usage import ApiCallsLabel, ApiUsage
from kdocs_viewer.gui.browser import PictureBrowser
from kdocs_viewer.gui.i18n import LANGUAGE_NAMES, SUPPORTED_LANGUAGES
from kdocs_viewer.gui.keyring_bridge import KeyringBridge, KeyringOp
from kdocs_viewer.gui.pic_input import (
    SUMMARY_ABOVE_CHARS,
    BigPicList,
    LargeListQuestion,
    PicListSummary,
    prepare_found,
    prepare_text,
)
from kdocs_viewer.gui.settings import AppSettings
from kdocs_viewer.gui.tasks import BackgroundCalls, TaskResult
from kdocs_viewer.gui.thumbnail_cache_actions import ThumbnailCacheActions

if TYPE_CHECKING:  # imported where used: the client, the keyring and the parser wait for the first paint
    from kdocs_viewer.core.api import KDocsClient
    from kdocs_viewer.core.piclist import ParseResult, PicListError
    from kdocs_viewer.core.saving import Source
    from kdocs_viewer.core.secrets import TokenStore
    from kdocs_viewer.gui.save_dialog import SaveProgressDialog, SaveSummaryDialog
    from kdocs_viewer.gui.save_runner import SaveJob, SaveRunner
    from kdocs_viewer.gui.token_dialog import TokenChoice

__all__ = ["MAX_PIC_LIST_BYTES", "MainWindow", "PicFileError", "TokenSource", "read_pic_list_file"]

log = logging.getLogger(__name__)

MAX_PIC_LIST_BYTES = 20 * 1024 * 1024  # a pic list is text; anything bigger is not one
TASK_FIND = "find"
TASK_READ = "read"
TASK_PARSE = "parse"
# Longer pic lists are parsed on a worker: ~200,000 characters (about 3,000 pictures as JSON) parse in about
# 40 ms; 10,000 pictures took 0.12 s and 250,000 took 3 s on the GUI thread.
SYNC_PARSE_CHARS = 200_000


class TokenSource(Enum):
    NONE = "none"
    CHECKING = "checking"  # the keyring lookup is still running
    SESSION = "session"  # in memory only
    KEYRING = "keyring"  # in memory and stored in the keyring


class PicFileError(Exception):
    """A pic list file that cannot be used; ``kind`` picks the translated message."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind  # "too_big", "binary", "encoding", "os"
        self.detail = detail


def read_pic_list_file(path: Path, max_bytes: int = MAX_PIC_LIST_BYTES) -> str:
    """The text of a pic list file: UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030.

    Runs in a worker. Refuses files over ``max_bytes`` and binary files (NUL bytes) instead of freezing the
    editor with them.
    """
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise PicFileError("os", exc.strerror or type(exc).__name__) from None
    if len(data) > max_bytes:
        raise PicFileError("too_big")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise PicFileError("encoding") from None
    if b"\x00" in data:
        raise PicFileError("binary")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise PicFileError("encoding")


def _local_file(mime: QMimeData) -> Path | None:
    """The single local file a drag carries, if that is what it carries."""
    if not mime.hasUrls():
        return None
    files = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
    return Path(files[0]) if len(files) == 1 else None


class PicListEditor(QPlainTextEdit):
    """The pic list text. A dropped *file* is read (by the window), not pasted as its URL; a paste too big to
    edit is handed to the window as well (``pic_input``), never inserted."""

    fileDropped = Signal(str)
    largeTextPasted = Signal(str)

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return _local_file(source) is not None or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        path = _local_file(source)
        if path is not None:
            self.fileDropped.emit(str(path))
            return
        if source.hasText() and len(text := source.text()) > SUMMARY_ABOVE_CHARS:
            self.largeTextPasted.emit(text)
            return
        super().insertFromMimeData(source)


class MessageArea(QLabel):
    """One message for the user about the input: info, warning or error, with a matching colour."""

    _STYLES: ClassVar[dict[str, str]] = {
        "info": "background: #e8f1fb; color: #0b3a66; border-left: 4px solid #2f7bd1;",
        "warning": "background: #fff4ce; color: #4a3800; border-left: 4px solid #d8a600;",
        "error": "background: #fde7e9; color: #6b0010; border-left: 4px solid #c42b1c;",
    }

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageArea")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.kind = ""
        self.hide()

    def show_message(self, kind: str, text: str) -> None:
        self.kind = kind
        self.setText(text)
        self.setStyleSheet(f"QLabel#messageArea {{ {self._STYLES.get(kind, '')} padding: 6px; }}")
        self.setVisible(bool(text))

    def show_notice(self, kind: str, text: str) -> None:
        """A message about something else (the keyring) that arrives in its own time: it never hides an error
        about the input (a bad ``--pics`` file at start-up) but is added below it; otherwise it replaces."""
        if self.kind == "error" and self.text():
            self.setText(f"{self.text()}\n\n{text}")
        else:
            self.show_message(kind, text)

    def clear_message(self) -> None:
        self.kind = ""
        self.clear()
        self.hide()


class MainWindow(QMainWindow):
    """See the module docstring. ``start_demo`` and ``begin`` are the two ways a session starts."""

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
        self._base_url = base_url or self.settings.get(S.BASE_URL)
        self._language = language
        self._demo = False
        self._token: str | None = None
        self._token_source = TokenSource.NONE
        self._keyring_backend = ""
        self._keyring_usable: bool | None = None  # None: not known yet
        self._stored_in_keyring = False
        self._keyring_note = ""
        self._after_token: str | None = None  # "load" or "find", waiting for the keyring lookup
        self._load_after_read = False
        self._token_dialog_open = False
        self._rejected_prompt_queued = False
        self._client: KDocsClient | None = None
        self._usage = ApiUsage(self.settings, self._base_url)
        self._save_runner: SaveRunner | None = None
        self._save_progress: SaveProgressDialog | None = None
        self._last_summary: SaveSummaryDialog | None = None
        self._last_job: SaveJob | None = None
        self._last_failed: tuple[PicRef, ...] = ()
        self._reading: Path | None = None
        self._big: BigPicList | None = None  # the list in use while the summary stands in for the editor
        self._question: LargeListQuestion | None = None
        self._question_load: tuple[str, ParseResult] | None = None  # what a "yes" starts
        self._editor_file = ""  # the name of the file whose text the editor holds, untouched since
        self._closed = False
        self._selection_count = 0

        self.setWindowTitle(self.tr("KDocs picture viewer"))
        self.setAcceptDrops(True)
        self._bridge = KeyringBridge(token_store, self)  # None: the default store, made on its worker
        self._bridge.finished.connect(self._on_keyring_result)
        self._calls = BackgroundCalls(self)
        self._calls.finished.connect(self._on_task_done)

        self._build_ui()
        self._build_actions()
        self._build_status_bar()
        self._restore_settings()
        self._update_token_label()
        self._update_actions()
        self._update_status()

    # ------------------------------------------------------------------------------------------------------
    # construction

    def _build_ui(self) -> None:
        panel = QWidget(self)
        panel.setObjectName("inputPanel")
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(8, 8, 4, 8)

        layout.addWidget(QLabel(self.tr("Workbook file token:"), panel))
        self.file_token_edit = QLineEdit(panel)
        self.file_token_edit.setObjectName("fileToken")
        self.file_token_edit.setPlaceholderText(self.tr("the id of the workbook, e.g. demo-workbook"))
        self.file_token_edit.setClearButtonEnabled(True)
        layout.addWidget(self.file_token_edit)

        self.find_button = QPushButton(self.tr("Find pictures in workbook"), panel)
        self.find_button.setObjectName("findButton")
        self.find_button.setToolTip(self.tr("Read the workbook's cells and list every picture in it"))
        layout.addWidget(self.find_button)

        header = QHBoxLayout()
        header.addWidget(QLabel(self.tr("Pic list:"), panel), 1)
        self.open_button = QToolButton(panel)
        self.open_button.setText(self.tr("Open…"))
        self.open_button.setToolTip(self.tr("Read a pic list from a file (or drop the file here)"))
        header.addWidget(self.open_button)
        layout.addLayout(header)

        self.editor = PicListEditor(panel)
        self.editor.setObjectName("picListEditor")
        self.editor.setPlaceholderText(
            self.tr(
                'Paste a pic list: the API\'s JSON body {"pics": [...]}, a cells response, CSV/TSV '
                '(pic_key,tag) or one "pic_key tag" per line. Or drop a file here.'
            )
        )
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        fixed = self.editor.font()
        fixed.setStyleHint(fixed.StyleHint.Monospace)
        fixed.setFamily("monospace")
        self.editor.setFont(fixed)
        self.summary = PicListSummary(panel)
        self.input_stack = QStackedWidget(panel)
        self.input_stack.addWidget(self.editor)
        self.input_stack.addWidget(self.summary)
        layout.addWidget(self.input_stack, 1)

        self.load_button = QPushButton(self.tr("Load"), panel)
        self.load_button.setObjectName("loadButton")
        self.load_button.setDefault(True)
        layout.addWidget(self.load_button)

        self.message_area = MessageArea(panel)
        layout.addWidget(self.message_area)

        self.browser = PictureBrowser(self)
        self.placeholder = QLabel(
            self.tr(
                "No pictures yet.\n\nEnter the workbook's file token, then click “Find pictures in workbook”,"
                " or paste a pic list and click “Load”."
            ),
            self,
        )
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setEnabled(False)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.browser)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(panel)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes([320, 900])
        self.setCentralWidget(self.splitter)

        self.find_button.clicked.connect(self.find_pictures)
        self.load_button.clicked.connect(self.load)
        self.open_button.clicked.connect(self.open_pic_list)
        self.editor.fileDropped.connect(self._on_file_dropped)
        self.editor.largeTextPasted.connect(self._on_large_paste)
        self.summary.clearRequested.connect(self.clear_big_list)
        self.summary.replaceRequested.connect(self.open_pic_list)
        self.editor.textChanged.connect(self._clear_error_highlight)
        self.editor.textChanged.connect(self._on_editor_changed)
        self.browser.tokenRejected.connect(self._on_token_rejected)
        self.browser.statusChanged.connect(self._update_status)
        self.browser.errorOccurred.connect(self._on_browser_error)
        self.browser.selectionCountChanged.connect(self._on_selection_count)
        self.browser.tileSizeChanged.connect(self._on_tile_size)

    def _action(
        self, text: str, slot: Any, shortcut: QKeySequence.StandardKey | str | None = None
    ) -> QAction:
        action = QAction(text, self)
        if isinstance(shortcut, QKeySequence.StandardKey):
            action.setShortcuts(shortcut)
        elif shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.open_action = self._action(self.tr("&Open pic list…"), self.open_pic_list, "Ctrl+O")
        self.save_action = self._action(self.tr("&Save selected…"), self.save_selected, "Ctrl+S")
        self.token_action = self._action(self.tr("Set access &token…"), self.ask_token, "Ctrl+T")
        self.quit_action = self._action(self.tr("&Quit"), self.close, "Ctrl+Q")
        self.copy_action = self._action(self.tr("&Copy image"), self._on_copy, "Ctrl+C")
        self.select_all_action = self._action(self.tr("Select &all"), self._on_select_all, "Ctrl+A")
        self.find_action = self._action(
            self.tr("&Find pictures in workbook"), self.find_pictures, "Ctrl+Shift+F"
        )
        self.load_action = self._action(self.tr("&Load"), self.load, "Ctrl+Return")
        self.refresh_action = QAction(self.tr("&Refresh links before they expire"), self)
        self.refresh_action.setCheckable(True)
        self.refresh_action.toggled.connect(self._on_refresh_toggled)
        self.about_action = self._action(self.tr("&About kdocs-viewer"), self._on_about)

        menu_bar = self.menuBar()
        file_menu = menu_bar.addMenu(self.tr("&File"))
        file_menu.addAction(self.open_action)
        file_menu.addAction(self.save_action)
        file_menu.addSeparator()
        file_menu.addAction(self.token_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        edit_menu = menu_bar.addMenu(self.tr("&Edit"))
        edit_menu.addAction(self.copy_action)
        edit_menu.addAction(self.select_all_action)

        view_menu = menu_bar.addMenu(self.tr("&View"))
        view_menu.addAction(self.find_action)
        view_menu.addAction(self.load_action)
        view_menu.addSeparator()
        view_menu.addAction(self.refresh_action)
        self.thumbnail_cache = ThumbnailCacheActions(self.browser, self.settings, self)
        view_menu.addActions(self.thumbnail_cache.actions())
        self.language_menu = view_menu.addMenu(self.tr("&Language"))
        self.language_group = QActionGroup(self)
        self.language_group.setExclusive(True)
        self.language_actions: dict[str, QAction] = {}
        for lang in SUPPORTED_LANGUAGES:
            action = QAction(LANGUAGE_NAMES[lang], self)
            action.setCheckable(True)
            action.setData(lang)
            action.setChecked(lang == self._language)
            self.language_group.addAction(action)
            self.language_menu.addAction(action)
            self.language_actions[lang] = action
        self.language_group.triggered.connect(self._on_language_chosen)

        help_menu = menu_bar.addMenu(self.tr("&Help"))
        help_menu.addAction(self.about_action)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.counts_label = QLabel(self)
        self.counts_label.setObjectName("countsLabel")
        self.selection_label = QLabel(self)
        self.api_label = ApiCallsLabel(self)
        self.token_button = QToolButton(self)
        self.token_button.setObjectName("tokenStatus")
        self.token_button.setAutoRaise(True)
        self.token_button.clicked.connect(self.ask_token)
        bar.addPermanentWidget(self.counts_label)
        bar.addPermanentWidget(self.selection_label)
        bar.addPermanentWidget(self.api_label)
        bar.addPermanentWidget(self.token_button)

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
        """Normal start, called right after ``show()``: look the token up off-thread, fill in what the
        command line gave, and load as soon as both a pic list and a token are there."""
        if file_token:
            self.file_token_edit.setText(file_token)
        if not self._demo and self._token is None:
            self._token_source = TokenSource.CHECKING
            self._update_token_label()
            self._bridge.get(self._base_url)
        if pics_file:
            self.open_file(Path(pics_file), load=True)

    def start_demo(self, base_url: str, token: str, file_token: str) -> None:
        """Use an in-process stand-in server: its token is for this session only (never the keyring)."""
        self._demo = True
        self._base_url = base_url
        self._usage = ApiUsage(self.settings, base_url, remember=False)
        self._set_client_token(token)
        self._token_source = TokenSource.SESSION
        self._update_token_label()
        self.file_token_edit.setText(file_token)
        self.find_pictures()

    def is_demo(self) -> bool:
        return self._demo

    def base_url(self) -> str:
        return self._base_url

    def token_source(self) -> TokenSource:
        return self._token_source

    def has_token(self) -> bool:
        return self._token is not None

    def client(self) -> KDocsClient | None:
        return self._client

    def background(self) -> BackgroundCalls:
        return self._calls

    def keyring_bridge(self) -> KeyringBridge:
        return self._bridge

    def save_runner(self) -> SaveRunner | None:
        return self._save_runner

    def last_summary_dialog(self) -> SaveSummaryDialog | None:
        return self._last_summary

    # ------------------------------------------------------------------------------------------------------
    # the token

    def _set_client_token(self, token: str) -> None:
        self._token = token
        if self._client is None:
            from kdocs_viewer.core.api import KDocsClient, KDocsError

            try:
                self._client = KDocsClient(token, self._base_url)
            except KDocsError as exc:  # e.g. a plain-http base URL that is not loopback
                self._token = None
                self.show_message("error", str(exc))
                return
        else:
            self._client.set_token(token)
            self.browser.set_token(token)

    def _keyring_ok_for_remember(self) -> bool:
        return not self._demo and self._keyring_usable is not False

    @Slot()
    def ask_token(self, reason: str = "") -> bool:
        """Open the token dialog (one at a time). True when a new token was set."""
        if self._token_dialog_open:
            return False
        self._token_dialog_open = True
        from kdocs_viewer.gui.token_dialog import TokenDialog

        try:
            dialog = TokenDialog(
                self,
                base_url=self._base_url,
                backend=self._keyring_backend,
                keyring_usable=self._keyring_usable is not False,
                has_token=self._token is not None or self._stored_in_keyring,
                remember=True,
                reason=reason if isinstance(reason, str) else "",
                demo=self._demo,
            )
            choice = dialog.ask()
            dialog.deleteLater()
        finally:
            self._token_dialog_open = False
        if choice is None:
            return False
        return self._apply_choice(choice)

    def _apply_choice(self, choice: TokenChoice) -> bool:
        if choice.action == "forget":
            self._token = None
            self._token_source = TokenSource.NONE
            if not self._demo:
                self._bridge.delete(self._base_url)
            self._stored_in_keyring = False
            self._update_token_label()
            self.show_message("info", self.tr("The access token was forgotten."))
            return False
        self._set_client_token(choice.token)
        if self._token is None:
            return False
        self._token_source = TokenSource.SESSION
        if choice.remember and self._keyring_ok_for_remember():
            self._bridge.set(self._base_url, choice.token)
        elif self._stored_in_keyring and not self._demo:
            self._bridge.delete(self._base_url)  # "don't remember": no stale token left in the keyring
            self._stored_in_keyring = False
        self._update_token_label()
        return True

    @Slot(str, object)
    def _on_keyring_result(self, op: str, result: object) -> None:
        from kdocs_viewer.core.secrets import TokenResult, TokenStatus  # loaded by the worker that answered

        if not isinstance(result, TokenResult) or self._closed:
            return
        self._keyring_backend = result.backend
        unavailable = result.status in (TokenStatus.UNAVAILABLE, TokenStatus.TIMED_OUT, TokenStatus.LOCKED)
        self._keyring_usable = not unavailable and result.status is not TokenStatus.ERROR
        if op == KeyringOp.GET:
            if result.status is TokenStatus.STORED and result.token and self._token is None:
                self._stored_in_keyring = True
                self._set_client_token(result.token)
                self._token_source = TokenSource.KEYRING if self._token else TokenSource.NONE
            elif self._token_source is TokenSource.CHECKING:
                self._token_source = TokenSource.NONE
            if not result.ok:
                self._keyring_note = result.detail
                self.show_notice(
                    "warning",
                    self.tr(
                        "Keyring unavailable — a token you enter is kept for this session only. (%1)"
                    ).replace("%1", result.detail),
                )
            pending, self._after_token = self._after_token, None
            self._update_token_label()
            if pending is not None:
                self._run_pending(pending)
        elif op == KeyringOp.SET:
            if result.status is TokenStatus.STORED:
                self._stored_in_keyring = True
                if self._token is not None:
                    self._token_source = TokenSource.KEYRING
            else:
                self._stored_in_keyring = False
                self._keyring_note = result.detail
                self.show_notice(
                    "warning",
                    self.tr("Keyring unavailable — the token is kept for this session only. (%1)").replace(
                        "%1", result.detail
                    ),
                )
            self._update_token_label()
        elif op == KeyringOp.DELETE and not result.ok:
            self.show_notice(
                "warning",
                self.tr("Could not remove the token from the keyring: %1").replace("%1", result.detail),
            )

    def _run_pending(self, action: str) -> None:
        if action == "load":
            self.load()
        elif action == "find":
            self.find_pictures()

    def _ensure_token(self, action: str) -> bool:
        """True when a token is at hand; otherwise waits for the keyring lookup or asks the user."""
        if self._token is not None:
            return True
        if self._token_source is TokenSource.CHECKING:
            self._after_token = action
            self.show_message("info", self.tr("Looking for a stored access token…"))
            return False
        if self.ask_token(self.tr("An access token is needed to read the workbook.")):
            return self._token is not None
        self.show_message("warning", self.tr("No access token: set one with File → Set access token…"))
        return False

    @Slot()
    def _on_token_rejected(self) -> None:
        """20007 from the browser: ask once (the browser pauses and emits once until ``set_token``)."""
        if self._token_dialog_open or self._rejected_prompt_queued or self._closed:
            return
        self._rejected_prompt_queued = True
        QTimer.singleShot(0, self._prompt_after_rejection)

    @Slot()
    def _prompt_after_rejection(self) -> None:
        self._rejected_prompt_queued = False
        if self._closed:
            return
        reason = self.tr(
            "The server rejected the access token (code 20007) — it may have expired. Enter a new one; "
            "the picture list and your selection are kept."
        )
        if not self.ask_token(reason):
            self.show_message(
                "warning",
                self.tr("Loading is paused until a new access token is set (File → Set access token…)."),
            )

    def _update_token_label(self) -> None:
        source = self._token_source
        if source is TokenSource.KEYRING:
            backend = self._keyring_backend or self.tr("keyring")
            text = self.tr("Token: stored in keyring (%1)").replace("%1", backend)
        elif source is TokenSource.SESSION and self._demo:
            text = self.tr("Token: demo, this session only")
        elif source is TokenSource.SESSION:
            text = self.tr("Token: this session only")
        elif source is TokenSource.CHECKING:
            text = self.tr("Token: checking keyring…")
        else:
            text = self.tr("Token: none")
        self.token_button.setText(text)
        if self._keyring_usable is False and source is not TokenSource.KEYRING:
            self.token_button.setToolTip(self.tr("Keyring unavailable — kept for this session only"))
        else:
            self.token_button.setToolTip(self.tr("Set, replace or forget the access token"))

    def token_status_text(self) -> str:
        return self.token_button.text()

    # ------------------------------------------------------------------------------------------------------
    # messages

    def show_message(self, kind: str, text: str) -> None:
        """Tell the user something about their input (kind: info, warning, error)."""
        self.message_area.show_message(kind, redact(text))

    def show_notice(self, kind: str, text: str) -> None:
        """Like ``show_message``, for news that is not about the input; see ``MessageArea.show_notice``."""
        self.message_area.show_notice(kind, redact(text))

    def message(self) -> tuple[str, str]:
        return self.message_area.kind, self.message_area.text()

    @Slot(str)
    def _on_browser_error(self, text: str) -> None:
        # The message area, not a 10-second status-bar note: the user may be looking elsewhere.
        self.show_message("error", redact(text))

    # ------------------------------------------------------------------------------------------------------
    # pic list input

    @Slot()
    def open_pic_list(self) -> None:
        start = self.settings.get(S.LAST_OPEN_FOLDER)
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Open pic list"),
            start,
            self.tr("Pic lists (*.json *.csv *.tsv *.txt);;All files (*)"),
        )
        if path:
            self.settings.set(S.LAST_OPEN_FOLDER, str(Path(path).parent))
            self.open_file(Path(path))

    def open_file(self, path: Path, *, load: bool = False) -> None:
        """Read ``path`` in a worker; its text replaces the editor's (undoable), then optionally loads."""
        self._load_after_read = load
        self._reading = path
        self.show_message("info", self.tr("Reading %1…").replace("%1", path.name))
        self._calls.submit(TASK_READ, lambda: (path, prepare_text(read_pic_list_file(path), path.name)))

    @Slot(str)
    def _on_large_paste(self, text: str) -> None:
        """A paste too big to edit: parsed on a worker, then shown as a summary like a big file."""
        self._load_after_read = False
        self._reading = None
        name = self.tr("Pasted pic list")
        self.show_message("info", self.tr("Reading %1…").replace("%1", name))
        self._calls.submit(TASK_READ, lambda: (None, prepare_text(text, name)))

    @Slot()
    def clear_big_list(self) -> None:
        """Drop the big list; the editor comes back with the text it had."""
        self._show_editor()
        self.message_area.clear_message()

    def big_list(self) -> BigPicList | None:
        return self._big

    def _show_big_list(self, big: BigPicList) -> None:
        self._big = big
        self.summary.show_list(big)
        self.input_stack.setCurrentWidget(self.summary)

    def _show_editor(self) -> None:
        self._big = None
        self.input_stack.setCurrentWidget(self.editor)

    @Slot(str)
    def _on_file_dropped(self, path: str) -> None:
        self.open_file(Path(path))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _local_file(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        path = _local_file(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.open_file(path)
        else:
            super().dropEvent(event)

    def _replace_editor_text(self, text: str) -> None:
        """Replace everything as one undoable edit (Ctrl+Z brings the previous text back)."""
        cursor = self.editor.textCursor()
        cursor.beginEditBlock()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(text)
        cursor.endEditBlock()
        cursor.movePosition(QTextCursor.MoveOperation.Start)
        self.editor.setTextCursor(cursor)

    def _file_error_text(self, path: Path | None, error: BaseException) -> str:
        name = path.name if path is not None else ""
        if isinstance(error, PicFileError):
            if error.kind == "too_big":
                limit = MAX_PIC_LIST_BYTES // (1024 * 1024)
                return (
                    self.tr("%1 is larger than %2 MB: that is not a pic list.")
                    .replace("%1", name)
                    .replace("%2", str(limit))
                )
            if error.kind == "binary":
                return self.tr("%1 is not a text file.").replace("%1", name)
            if error.kind == "encoding":
                return self.tr("%1 is neither UTF-8, UTF-16 nor GB18030 text.").replace("%1", name)
            return self.tr("Could not read %1: %2").replace("%1", name).replace("%2", error.detail)
        return self.tr("Could not read %1: %2").replace("%1", name).replace("%2", redact(str(error)))

    @Slot()
    def load(self) -> bool:
        """Parse the editor's text and show its pictures. False (with a message) when something is missing.

        A list longer than ``SYNC_PARSE_CHARS`` is parsed on a worker, so the window never freezes on a big
        paste: then True means "started", and the pictures or the problem show when the parse is done.
        """
        if self._big is not None:
            return self._load_parsed(self._big.result)
        from kdocs_viewer.core.piclist import PicListError, parse_pic_list

        text = self.editor.toPlainText()
        if len(text) > SYNC_PARSE_CHARS:
            self._set_load_enabled(False)
            self.show_message("info", self.tr("Reading the pic list…"))
            self._calls.submit(TASK_PARSE, lambda: parse_pic_list(text))
            return True
        try:
            result = parse_pic_list(text)
        except PicListError as exc:
            self._show_parse_error(exc)
            return False
        return self._load_parsed(result)

    def _on_parsed(self, result: TaskResult) -> None:
        from kdocs_viewer.core.piclist import PicListError

        self._set_load_enabled(True)
        if isinstance(result.error, PicListError):
            self._show_parse_error(result.error)
        elif result.error is not None:
            message = self.tr("Could not read the pic list: %1").replace("%1", redact(str(result.error)))
            self.show_message("error", message)
        else:
            self._load_parsed(result.value)

    @Slot()
    def _on_editor_changed(self) -> None:
        """An edit while a long list is being parsed makes that parse stale: drop it, Load is free again."""
        self._editor_file = ""
        if self._calls.is_busy(TASK_PARSE) and not self.load_button.isEnabled():
            self._calls.forget(TASK_PARSE)
            self._set_load_enabled(True)
            self.show_message("info", self.tr("The pic list changed: press Load again."))

    def _set_load_enabled(self, on: bool) -> None:
        self.load_button.setEnabled(on)
        self.load_action.setEnabled(on)

    def _load_parsed(self, result: ParseResult) -> bool:
        file_token = self.file_token_edit.text().strip()
        if not file_token:
            self.show_message("error", self.tr("Enter the workbook's file token first."))
            self.file_token_edit.setFocus()
            return False
        if not self._ensure_token("load"):
            return False
        from kdocs_viewer.core.piclist import CONFIRM_PICTURES_ABOVE

        if len(result.pics) > CONFIRM_PICTURES_ABOVE:
            self._ask_before_loading(file_token, result)
            return True
        return self._start_parsed(file_token, result)

    def _ask_before_loading(self, file_token: str, result: ParseResult) -> None:
        """A list that costs many API calls starts only after a "yes" (asked without blocking the window)."""
        if self._question is not None:
            return
        count = len(result.pics)
        limit = self._usage.update(self._client)[1]
        self._question = LargeListQuestion(count, calls_to_resolve(count), limit, self)
        self._question_load = (file_token, result)
        self._question.finished.connect(self._on_question_answered)
        self._question.open()

    def large_list_question(self) -> LargeListQuestion | None:
        return self._question

    @Slot(int)
    def _on_question_answered(self, _code: int) -> None:
        box, self._question = self._question, None
        pending, self._question_load = self._question_load, None
        if box is None:
            return
        box.deleteLater()
        if pending is None or self._closed:
            return
        if box.accepted_load():
            self._start_parsed(*pending)
        else:
            self.show_message("info", self.tr("Not loaded. The list is kept; press Load to be asked again."))

    def _start_parsed(self, file_token: str, result: ParseResult) -> bool:
        self._start_browser(file_token, result.pics)
        count = len(result.pics)
        text = self.tr("Loaded %1 pictures.").replace("%1", str(count))
        if result.duplicates:
            shown = "; ".join(str(p) for p in result.duplicates[:3])
            more = len(result.duplicates) - 3
            text += "\n" + self.tr("Duplicates ignored: %1").replace("%1", str(len(result.duplicates)))
            text += f" — {shown}" + (f" (+{more})" if more > 0 else "")
        self.show_message("info", text)
        return True

    def _show_parse_error(self, exc: PicListError, source: str | None = None) -> None:
        """The problems, and the editor at the first bad line; ``source`` names a list that is not in the
        editor (a big file or paste), which is then left alone."""
        from kdocs_viewer.core.piclist import line_of

        problems = exc.problems or []
        lines = [str(problem) for problem in problems[:5]]
        if len(problems) > 5:
            lines.append(self.tr("… and %1 more problems").replace("%1", str(len(problems) - 5)))
        name = self._editor_file if source is None else source
        if name:
            lead = self.tr("%1 has a problem:").replace("%1", name)
        else:
            lead = self.tr("The pic list has a problem:")
        text = lead + "\n" + "\n".join(lines or [str(exc)])
        self.show_message("error", text)
        if source is not None:
            return
        for problem in problems:
            line = line_of(problem.where)  # reads the translated "第 3 行" as well as "line 3"
            if line is not None:
                self.jump_to_line(line)
                break

    def jump_to_line(self, line: int) -> None:
        """Put the cursor at the start of ``line`` (1-based) and highlight it, without selecting text."""
        block = self.editor.document().findBlockByNumber(max(0, line - 1))
        if not block.isValid():
            return
        cursor = QTextCursor(block)
        self.editor.setTextCursor(cursor)
        self.editor.centerCursor()
        highlight = QTextEdit.ExtraSelection()
        highlight.format.setBackground(QColor("#fde7e9"))
        highlight.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
        highlight.cursor = QTextCursor(block)
        self.editor.setExtraSelections([highlight])
        self.editor.setFocus()

    def current_line(self) -> int:
        """The editor cursor's line, 1-based."""
        return self.editor.textCursor().blockNumber() + 1

    @Slot()
    def _clear_error_highlight(self) -> None:
        if self.editor.extraSelections():
            self.editor.setExtraSelections([])

    def _start_browser(self, file_token: str, refs: list[PicRef]) -> None:
        assert self._client is not None
        self.stack.setCurrentWidget(self.browser)
        self.browser.start(self._client, file_token, refs)
        self._update_actions()
        self._update_status()

    # ------------------------------------------------------------------------------------------------------
    # find pictures

    @Slot()
    def find_pictures(self) -> None:
        """List the workbook's pictures (sheets + cells APIs) in a worker; fills the editor, then loads."""
        file_token = self.file_token_edit.text().strip()
        if not file_token:
            self.show_message("error", self.tr("Enter the workbook's file token first."))
            self.file_token_edit.setFocus()
            return
        if self._calls.is_busy(TASK_FIND):
            return
        if not self._ensure_token("find"):
            return
        client = self._client
        assert client is not None
        cancel = self._calls.cancel
        name = self.tr("Pictures found in the workbook")

        def find() -> tuple[str, int, str | BigPicList]:
            refs = client.find_pictures(file_token, cancel=cancel)
            return file_token, len(refs), prepare_found(refs, name)

        self.find_button.setEnabled(False)
        self.find_action.setEnabled(False)
        self.show_message("info", self.tr("Looking for pictures in the workbook…"))
        self._calls.submit(TASK_FIND, find)

    @Slot(object)
    def _on_task_done(self, result: object) -> None:
        if not isinstance(result, TaskResult) or self._closed:
            return
        if result.kind == TASK_FIND:
            self._on_found(result)
        elif result.kind == TASK_READ:
            self._on_read(result)
        elif result.kind == TASK_PARSE:
            self._on_parsed(result)

    def _on_found(self, result: TaskResult) -> None:
        self.find_button.setEnabled(True)
        self.find_action.setEnabled(True)
        self._update_status()
        from kdocs_viewer.core.api import TokenInvalidError  # the client that answered imported it

        if isinstance(result.error, TokenInvalidError):
            reason = self.tr("The server rejected the access token (code 20007). Enter a new one.")
            if self.ask_token(reason):
                self.find_pictures()
            else:
                self.show_message(
                    "warning", self.tr("No access token: set one with File → Set access token…")
                )
            return
        if result.error is not None:
            self.show_message(
                "error",
                self.tr("Could not list the workbook's pictures: %1").replace(
                    "%1", redact(str(result.error))
                ),
            )
            return
        file_token, count, prepared = result.value
        if not count:
            self.show_message("warning", self.tr("No pictures found in this workbook."))
            return
        if isinstance(prepared, BigPicList):
            self._show_big_list(prepared)
        else:
            self._replace_editor_text(prepared)
            self._show_editor()
        if self.file_token_edit.text().strip() != file_token:
            self.file_token_edit.setText(file_token)
        self.load()

    def _on_read(self, result: TaskResult) -> None:
        load, self._load_after_read = self._load_after_read, False
        from kdocs_viewer.core.piclist import PicListError  # the worker that answered imported it

        if isinstance(result.error, PicListError):  # a list too big to edit, parsed there
            name = self._reading.name if self._reading is not None else self.tr("Pasted pic list")
            self._show_parse_error(result.error, source=name)
            return
        if result.error is not None:
            self.show_message("error", self._file_error_text(self._reading, result.error))
            return
        path, prepared = result.value
        if isinstance(prepared, BigPicList):
            self._show_big_list(prepared)
            self.show_message(
                "info",
                self.tr("Read %1: %2 pictures. Click “Load” to show them.")
                .replace("%1", prepared.source)
                .replace("%2", f"{prepared.count:,}"),
            )
        else:
            self._replace_editor_text(prepared)
            self._editor_file = path.name
            self._show_editor()
            self.show_message(
                "info", self.tr("Read %1. Click “Load” to show its pictures.").replace("%1", path.name)
            )
        if load:
            self.load()

    # ------------------------------------------------------------------------------------------------------
    # saving

    @Slot()
    def save_selected(self) -> None:
        """Ask where and how, then save the selected pictures in the background."""
        from kdocs_viewer.core.saving import ConflictPolicy  # saving's modules load at the first save
        from kdocs_viewer.gui.save_dialog import SaveDialog
        from kdocs_viewer.gui.save_runner import SaveJob, refs_in_order

        refs = self.browser.selected_refs()
        session = self.browser.session()
        if not refs or session is None:
            self.statusBar().showMessage(self.tr("Select the pictures to save first."), 5000)
            return
        if self._save_runner is not None and self._save_runner.is_running():
            return
        policy_value = self.settings.get(S.CONFLICT_POLICY)
        policy = (
            ConflictPolicy(policy_value) if policy_value in set(ConflictPolicy) else ConflictPolicy.UNIQUIFY
        )
        dialog = SaveDialog(
            refs,
            self,
            folder=self.settings.get(S.LAST_FOLDER),
            template=self.settings.get(S.TEMPLATE),
            policy=policy,
            sample=session.cached_bytes(refs[0]),
        )
        code = dialog.exec()
        options = dialog.options()
        dialog.deleteLater()
        if code != QDialog.DialogCode.Accepted.value:
            return
        self.settings.set(S.LAST_FOLDER, str(options.folder))
        self.settings.set(S.TEMPLATE, options.template)
        self.settings.set(S.CONFLICT_POLICY, options.policy.value)
        self.start_save(SaveJob(refs_in_order(refs), options.folder, options.template, options.policy))

    def start_save(self, job: SaveJob) -> SaveRunner | None:
        """Run ``job`` through the current session (its caches and leases); shows progress, then a summary."""
        session = self.browser.session()
        if session is None or not job.refs:
            return None
        if self._save_runner is not None and self._save_runner.is_running():
            return None
        from kdocs_viewer.gui.save_dialog import SaveProgressDialog
        from kdocs_viewer.gui.save_runner import SaveRunner

        def fetch(ref: PicRef, cancel: Any) -> Source:
            return session.fetch_for_save(ref, cancel=cancel)

        runner = SaveRunner(job, fetch, self.browser, on_saved=session.keep_saved, parent=self)
        runner.finished.connect(self._on_save_finished)
        self._save_runner = runner
        self._save_progress = SaveProgressDialog(runner, self)
        self._save_progress.setWindowModality(Qt.WindowModality.WindowModal)
        self._save_progress.show()
        runner.start()
        self._update_actions()
        return runner

    @Slot(object)
    def _on_save_finished(self, summary: object) -> None:
        runner = self._save_runner
        if self._save_progress is not None:
            self._save_progress.deleteLater()
            self._save_progress = None
        self._update_actions()
        if self._closed or runner is None:
            return
        if isinstance(summary, str):
            self.show_message("error", self.tr("Could not save: %1").replace("%1", summary))
            return
        from kdocs_viewer.core.saving import SaveSummary
        from kdocs_viewer.gui.save_dialog import SaveSummaryDialog

        if not isinstance(summary, SaveSummary):
            return
        if self._last_summary is not None:
            self._last_summary.deleteLater()
        dialog = SaveSummaryDialog(summary, runner.job.folder, self)
        dialog.retryRequested.connect(self._on_retry_failed)
        self._last_summary = dialog
        self._last_job = runner.job
        self._last_failed = tuple(r.ref for r in summary.failed)
        dialog.open()

    @Slot()
    def _on_retry_failed(self) -> None:
        job, failed = self._last_job, self._last_failed
        if job is None or not failed:
            return
        from kdocs_viewer.gui.save_runner import SaveJob

        self.start_save(SaveJob(failed, job.folder, job.template, job.policy))

    # ------------------------------------------------------------------------------------------------------
    # edit actions and view

    def _text_focus(self) -> QWidget | None:
        focus = QApplication.focusWidget()
        return focus if isinstance(focus, QLineEdit | QPlainTextEdit | QTextEdit) else None

    @Slot()
    def _on_copy(self) -> None:
        text = self._text_focus()
        if text is not None:
            text.copy()  # type: ignore[attr-defined]
            return
        self.browser.grid().copyRequested.emit()  # the grid copies its current picture

    @Slot()
    def _on_select_all(self) -> None:
        text = self._text_focus()
        if text is not None:
            text.selectAll()  # type: ignore[attr-defined]
            return
        grid = self.browser.grid()
        grid.selectAll()
        grid.setFocus()

    @Slot(bool)
    def _on_refresh_toggled(self, on: bool) -> None:
        self.browser.set_refresh_enabled(on)
        self.settings.set(S.REFRESH, bool(on))

    @Slot(QAction)
    def _on_language_chosen(self, action: QAction) -> None:
        lang = str(action.data())
        self.settings.set(S.LANGUAGE, lang)
        if lang != self._language:
            QMessageBox.information(
                self,
                self.tr("Language"),
                self.tr("The language changes the next time kdocs-viewer starts."),
            )

    @Slot()
    def _on_about(self) -> None:
        QMessageBox.about(
            self,
            self.tr("About kdocs-viewer"),
            self.tr(
                "kdocs-viewer %1\nA viewer for the pictures inside KDocs (金山文档) spreadsheets."
            ).replace("%1", __version__),
        )

    @Slot(int)
    def _on_selection_count(self, count: int) -> None:
        self._selection_count = count
        self._update_actions()
        self._update_status()

    @Slot(int)
    def _on_tile_size(self, px: int) -> None:
        self.settings.set(S.TILE_SIZE, int(px))

    def _update_actions(self) -> None:
        saving = self._save_runner is not None and self._save_runner.is_running()
        has_session = self.browser.session() is not None
        self.save_action.setEnabled(has_session and self._selection_count > 0 and not saving)

    def api_calls_today(self) -> int:
        """API calls made against this window's server on this quota day, earlier runs included."""
        return self._usage.update(self._client)[0]

    @Slot()
    def _update_status(self) -> None:
        if self._closed:
            return
        stats = self.browser.stats()
        self.counts_label.setText(
            self.tr("Pictures: %1 · loaded: %2 · failed: %3 · expiring soon: %4")
            .replace("%1", str(stats.pictures))
            .replace("%2", str(stats.loaded))
            .replace("%3", str(stats.failed))
            .replace("%4", str(stats.expiring_soon))
        )
        self.selection_label.setText(self.tr("Selected: %1").replace("%1", str(self._selection_count)))
        self.api_label.show_usage(*self._usage.update(self._client))

    # ------------------------------------------------------------------------------------------------------
    # closing

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop and join every worker, save the settings. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._calls.cancel.set()
        if self._save_runner is not None:
            self._save_runner.cancel()
        self.browser.shutdown()
        if self._save_runner is not None:
            self._save_runner.wait()
        if self._save_progress is not None:
            self._save_progress.close()
        self._calls.shutdown()
        self._bridge.shutdown()
        self._usage.save(self._client)
        if self._client is not None:
            self._client.close()
        self._save_window_settings()
        self._token = None

    def _save_window_settings(self) -> None:
        self.settings.set(S.GEOMETRY, QByteArray(self.saveGeometry()))
        self.settings.set(S.WINDOW_STATE, QByteArray(self.saveState()))
        self.settings.set(S.SPLITTER, QByteArray(self.splitter.saveState()))
        self.settings.set(S.TILE_SIZE, int(self.browser.tile_size()))
        self.settings.set(S.REFRESH, self.refresh_action.isChecked())
        if not self._demo:
            self.settings.set(S.BASE_URL, self._base_url)
        self.settings.sync()

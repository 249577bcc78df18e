"""The input: the workbook (name and file token), the pic list (editor, or a big list's summary), Find, Load.

The panel itself is the pic list, a side panel the window shows on demand (``panel_action``): most people open
a workbook by name and never see it, so it opens by itself only when there is something to look at (a list
imported, a problem in one). It also makes the two widgets the window puts above the pictures: the
``WorkbookBar`` (name, file token, Find) and the ``MessageArea``.

What it guarantees:
- files are read, long lists parsed and "Find pictures" run off the GUI thread (``BackgroundCalls``);
- a pic list that does not parse keeps the user's text untouched; the message names the line and the editor
  jumps there (highlighted, not selected, so the next keystroke cannot wipe it);
- a list too big to edit is summarised, not put in the editor, and one that costs many API calls is asked
  about before the first call (``pic_input``);
- a dropped file is read, not pasted as its URL;
- a KDocs share link in the file token field is never sent as a file token: the user is told what it is
  (``shareLinkEntered`` lets the window look it up);
- a workbook restored at start (``restore_workbook``) is reopened once a token is at hand, unless the user
  has turned to something else by then.

It needs a token for Find and Load: ``TokenController.ensure`` gives one or makes the action wait, and a
rejected one goes to ``TokenController.reject``. A list ready to show leaves as ``loadRequested``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kdocs_viewer.core.errors import FailureReason, reason_of
from kdocs_viewer.core.models import Problem
from kdocs_viewer.core.quota import calls_to_resolve
from kdocs_viewer.core.redact import redact
from kdocs_viewer.gui import settings as S
from kdocs_viewer.gui.actions import make_action
from kdocs_viewer.gui.failure_text import error_text
from kdocs_viewer.gui.message_area import MessageArea
from kdocs_viewer.gui.pic_input import (
    BigPicList,
    LargeListQuestion,
    PicListSummary,
    prepare_found,
    prepare_text,
)
from kdocs_viewer.gui.pic_list_editor import PicListEditor
from kdocs_viewer.gui.pic_list_messages import (
    file_error_text,
    loaded_text,
    parse_error_text,
    unreadable_cells_text,
)
from kdocs_viewer.gui.settings import AppSettings
from kdocs_viewer.gui.tasks import BackgroundCalls, TaskResult
from kdocs_viewer.gui.token_controller import TokenController
from kdocs_viewer.gui.workbook_bar import WorkbookBar

if TYPE_CHECKING:  # the parser and the file lists wait for the first paint
    from kdocs_viewer.core.files import FileItem
    from kdocs_viewer.core.piclist import ParseResult, PicListError

__all__ = ["SYNC_PARSE_CHARS", "InputPanel"]

TASK_FIND = "find"
TASK_READ = "read"
TASK_PARSE = "parse"
# Longer pic lists are parsed on a worker: ~200,000 characters (about 3,000 pictures as JSON) parse in about
# 40 ms; 10,000 pictures take 0.12 s and 250,000 take 3 s, which the GUI thread must not pay.
SYNC_PARSE_CHARS = 200_000


class InputPanel(QWidget):
    """See the module docstring. ``daily_limit`` gives the server's known daily API-call limit, if any;
    ``parent`` (the window) also parents the workbook bar and the message area."""

    loadRequested = Signal(str, object)  # (file token, list[PicRef]): show these pictures
    findFinished = Signal()  # a "Find pictures" call ended, however (it made API calls)
    workbookChanged = Signal(str, str)  # (name or "", file token): what the bar now names
    workbookRead = Signal(str, str)  # (name or "", file token): "Find pictures" read this workbook
    shareLinkEntered = Signal(str, bool)  # (link id, asked): a share link in the field; asked = Find/Enter

    def __init__(
        self,
        token: TokenController,
        settings: AppSettings,
        daily_limit: Callable[[], int | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("inputPanel")
        self._token = token
        self._settings = settings
        self._daily_limit = daily_limit
        self._load_after_read = False
        self._reading: Path | None = None
        self._big: BigPicList | None = None  # the list in use while the summary stands in for the editor
        self._question: LargeListQuestion | None = None
        self._question_load: tuple[str, ParseResult] | None = None  # what a "yes" starts
        self._editor_file = ""  # the name of the file whose text the editor holds, untouched since
        self._unreadable: list[Problem] = []  # picture cells "Find pictures" could not read, told on load
        self._name = ""  # the workbook's name, while the file token field holds its file token
        self._restore: tuple[str, str] | None = None  # (name, file token) to reopen once a token is here
        self._link_shown: str | None = None  # the share link last explained (once per paste)
        self._closed = False
        self._calls = BackgroundCalls(self)
        self._calls.finished.connect(self._on_task_done)
        self._build(parent)
        self._token.changed.connect(self._reopen_if_ready)

    def _build(self, window: QWidget | None) -> None:
        self.bar = WorkbookBar(window)
        self.file_token_edit = self.bar.file_token_edit
        self.find_button = self.bar.find_button
        self.message_area = MessageArea(window)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 4, 8)
        header = QHBoxLayout()
        header.addWidget(QLabel(self.tr("Pic list:"), self), 1)
        self.open_button = QToolButton(self)
        self.open_button.setObjectName("openButton")
        self.open_button.setText(self.tr("Open…"))
        self.open_button.setToolTip(self.tr("Read a pic list from a file (or drop the file here)"))
        header.addWidget(self.open_button)
        layout.addLayout(header)

        self.editor = PicListEditor(self)
        self.summary = PicListSummary(self)
        self.input_stack = QStackedWidget(self)
        self.input_stack.setObjectName("picListStack")
        self.input_stack.addWidget(self.editor)
        self.input_stack.addWidget(self.summary)
        layout.addWidget(self.input_stack, 1)

        self.load_button = QPushButton(self.tr("Load"), self)
        self.load_button.setObjectName("loadButton")
        self.load_button.setDefault(True)
        layout.addWidget(self.load_button)

        # The window puts these in its menus; they stay in step with the buttons.
        self.open_action = make_action(
            self, self.tr("&Import pic list…"), self.open_pic_list, "Ctrl+Shift+O", name="importAction"
        )
        self.panel_action = QAction(self.tr("&Pic list panel"), self)
        self.panel_action.setObjectName("picListAction")
        self.panel_action.setIconText(self.tr("Pic list"))  # the toggle button in the workbook bar
        self.panel_action.setShortcut(QKeySequence("Ctrl+L"))
        self.panel_action.setToolTip(
            self.tr("Show or hide the pic list: paste, import or edit a list of pictures")
        )
        self.panel_action.setCheckable(True)
        shown = self._settings.get(S.PIC_LIST_PANEL)
        self.panel_action.setChecked(shown)
        self.setVisible(shown)
        self.panel_action.toggled.connect(self._on_panel_toggled)
        self.find_action = make_action(
            self, self.tr("&Find pictures in workbook"), self.find_pictures, "Ctrl+Shift+F", name="findAction"
        )
        self.load_action = make_action(self, self.tr("&Load"), self.load, "Ctrl+Return", name="loadAction")

        self.find_button.clicked.connect(self.find_pictures)
        self.file_token_edit.returnPressed.connect(self.find_pictures)
        self.file_token_edit.textChanged.connect(self._on_file_token_text)
        self.file_token_edit.textEdited.connect(self._on_file_token_edited)
        self.load_button.clicked.connect(self.load)
        self.open_button.clicked.connect(self.open_pic_list)
        self.editor.fileDropped.connect(self._on_file_dropped)
        self.editor.largeTextPasted.connect(self._on_large_paste)
        self.summary.clearRequested.connect(self.clear_big_list)
        self.summary.replaceRequested.connect(self.open_pic_list)
        self.editor.textChanged.connect(self._on_editor_changed)

    # ------------------------------------------------------------------------------------------------------
    # messages

    def show_message(self, kind: str, text: str) -> None:
        """Tell the user something about their input (kind: info, warning, error)."""
        self.message_area.show_message(kind, redact(text))

    def show_notice(self, kind: str, text: str) -> None:
        """Like ``show_message``, for news that is not about the input; see ``MessageArea.show_notice``."""
        self.message_area.show_notice(kind, redact(text))

    @Slot(bool)
    def _on_panel_toggled(self, shown: bool) -> None:
        self.setVisible(shown)
        self._settings.set(S.PIC_LIST_PANEL, shown)

    def reveal(self) -> None:
        """Show the pic list panel (something in it needs the user's eyes)."""
        self.panel_action.setChecked(True)

    # ------------------------------------------------------------------------------------------------------
    # the workbook

    def file_token(self) -> str:
        return self.file_token_edit.text().strip()

    def workbook_name(self) -> str:
        """The open workbook's name ("" while only its file token is known)."""
        return self._name

    def set_file_token(self, file_token: str) -> None:
        self._set_workbook(self._name if file_token.strip() == self.file_token() else "", file_token)

    def _set_workbook(self, name: str, file_token: str) -> None:
        if self.file_token_edit.text() != file_token:
            self.file_token_edit.setText(file_token)
        self._name = name
        self.bar.show_workbook(name, file_token.strip())
        self.workbookChanged.emit(name, file_token.strip())

    def open_workbook(self, name: str, file_token: str) -> None:
        """Show this workbook and find its pictures (a "Find pictures" in flight for another is dropped)."""
        self._restore = None
        self._set_workbook(name, file_token)
        self._find(replace=True)

    def restore_workbook(self, name: str, file_token: str) -> None:
        """Show the workbook of the last session and reopen it as soon as a token is at hand."""
        self._set_workbook(name, file_token)
        self._restore = (name, file_token)
        self._reopen_if_ready()

    @Slot()
    def _reopen_if_ready(self) -> None:
        restore = self._restore
        if restore is None or self._closed or not self._token.has_token():
            return
        self._restore = None
        if self.file_token() == restore[1]:
            self._find(replace=False)

    def learn_names(self, items: Iterable[FileItem]) -> None:
        """Listed files: the one whose file token the field holds gives the workbook its name."""
        file_token = self.file_token()
        if self._name or not file_token:
            return
        for item in items:
            if item.file_token == file_token:
                self._set_workbook(item.name, self.file_token_edit.text())
                return

    @Slot(str)
    def _on_file_token_edited(self, text: str) -> None:
        """Typed by the user: the name no longer applies, and nothing is reopened behind their back."""
        self._restore = None
        self._set_workbook("", text)

    @Slot(str)
    def _on_file_token_text(self, text: str) -> None:
        self.bar.show_workbook(self._name, text.strip())
        link = _share_link(text)
        if link is None or link == self._link_shown:
            self._link_shown = link
            return
        self._link_shown = link
        self._explain_share_link(link)
        self.shareLinkEntered.emit(link, False)

    def _explain_share_link(self, link_id: str) -> None:
        from kdocs_viewer.core.files import share_link_explanation

        offer = self.tr("Click “Open workbook…” (Ctrl+O), or press Enter here, to choose it from your files.")
        self.show_message("warning", share_link_explanation(link_id) + "\n" + offer)

    def _require_file_token(self) -> str:
        """The file token, or "" after saying it is missing or is a share link (Find and Load need one)."""
        file_token = self.file_token()
        if not file_token:
            self.show_message("error", self.tr("Enter the workbook's file token first."))
            self.file_token_edit.setFocus()
            return ""
        link = _share_link(file_token)
        if link is not None:
            self._explain_share_link(link)
            self.shareLinkEntered.emit(link, True)
            return ""
        return file_token

    # ------------------------------------------------------------------------------------------------------
    # pic list input

    @Slot()
    def open_pic_list(self) -> None:
        start = self._settings.get(S.LAST_OPEN_FOLDER)
        path, _ = QFileDialog.getOpenFileName(
            self.window(),
            self.tr("Open pic list"),
            start,
            self.tr("Pic lists (*.json *.csv *.tsv *.txt);;All files (*)"),
        )
        if path:
            self._settings.set(S.LAST_OPEN_FOLDER, str(Path(path).parent))
            self.open_file(Path(path))

    def open_file(self, path: Path, *, load: bool = False) -> None:
        """Read ``path`` in a worker; its text replaces the editor's (undoable), then optionally loads."""
        self._restore = None
        self._load_after_read = load
        self._reading = path
        self.show_message("info", self.tr("Reading %1…").replace("%1", path.name))

        def read() -> tuple[Path, str | BigPicList]:
            from kdocs_viewer.core.piclist import read_pic_list_file

            return path, prepare_text(read_pic_list_file(path), path.name)

        self._calls.submit(TASK_READ, read)

    @Slot(str)
    def _on_large_paste(self, text: str) -> None:
        """A paste too big to edit: parsed on a worker, then shown as a summary like a big file."""
        self._restore = None
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

    def _show_big_list(self, big: BigPicList) -> None:
        self._big = big
        self.summary.show_list(big)
        self.input_stack.setCurrentWidget(self.summary)
        self.reveal()

    def _show_editor(self) -> None:
        self._big = None
        self.input_stack.setCurrentWidget(self.editor)

    @Slot(str)
    def _on_file_dropped(self, path: str) -> None:
        self.open_file(Path(path))

    @Slot()
    def load(self) -> bool:
        """Parse the editor's text and show its pictures. False (with a message) when something is missing.

        A list longer than ``SYNC_PARSE_CHARS`` is parsed on a worker, so the window never freezes on a big
        paste: then True means "started", and the pictures or the problem show when the parse is done.
        """
        self._restore = None
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
        self._unreadable = []
        if self._calls.is_busy(TASK_PARSE) and not self.load_button.isEnabled():
            self._calls.forget(TASK_PARSE)
            self._set_load_enabled(True)
            self.show_message("info", self.tr("The pic list changed: press Load again."))

    def _set_load_enabled(self, on: bool) -> None:
        self.load_button.setEnabled(on)
        self.load_action.setEnabled(on)

    def _load_parsed(self, result: ParseResult) -> bool:
        file_token = self._require_file_token()
        if not file_token:
            return False
        if not self._token.ensure(self.load):
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
        self._question = LargeListQuestion(count, calls_to_resolve(count), self._daily_limit(), self.window())
        self._question_load = (file_token, result)
        self._question.finished.connect(self._on_question_answered)
        self._question.open()

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
        self.loadRequested.emit(file_token, result.pics)
        self.show_message("info", loaded_text(result))
        self._note_unreadable_cells(self._unreadable)
        return True

    def _show_parse_error(self, exc: PicListError, source: str | None = None) -> None:
        """The problems, and the editor at the first bad line; ``source`` names a list that is not in the
        editor (a big file or paste), which is then left alone."""
        from kdocs_viewer.core.piclist import line_of

        self.show_message("error", parse_error_text(exc, self._editor_file if source is None else source))
        self.reveal()
        if source is not None:
            return
        for problem in exc.problems or []:
            line = line_of(problem.where)  # reads the translated "第 3 行" as well as "line 3"
            if line is not None:
                self.editor.jump_to_line(line)
                break

    # ------------------------------------------------------------------------------------------------------
    # find pictures

    @Slot()
    def find_pictures(self) -> None:
        """List the workbook's pictures (sheets + cells APIs) in a worker; fills the editor, then loads."""
        self._restore = None
        self._find(replace=False)

    def _find(self, *, replace: bool) -> None:
        """``replace``: a find in flight (for another workbook) is dropped, else this one waits for it."""
        file_token = self._require_file_token()
        if not file_token:
            return
        if self._calls.is_busy(TASK_FIND):
            if not replace:
                return
            self._calls.forget(TASK_FIND)
        if not self._token.ensure(self.find_pictures):
            return
        client = self._token.client()
        assert client is not None
        cancel = self._calls.cancel
        name = self.tr("Pictures found in the workbook")

        def find() -> tuple[str, int, str | BigPicList, list[Problem]]:
            found = client.find_pictures(file_token, cancel=cancel)
            return file_token, len(found.pics), prepare_found(found.pics, name), found.problems

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
        self.findFinished.emit()
        if result.error is not None and reason_of(result.error) is FailureReason.TOKEN_REJECTED:
            self._token.reject(retry=self.find_pictures)
            return
        if result.error is not None:
            text = self.tr("Could not list the workbook's pictures: %1")
            self.show_message("error", text.replace("%1", error_text(result.error)))
            return
        file_token, count, prepared, problems = result.value
        self.workbookRead.emit(self._name if self.file_token() == file_token else "", file_token)
        if not count:
            self.loadRequested.emit(file_token, [])  # the pictures of the workbook shown before go
            self.show_message("warning", self.tr("No pictures found in this workbook."))
            self._note_unreadable_cells(problems)
            return
        if isinstance(prepared, BigPicList):
            self._show_big_list(prepared)
        else:
            self.editor.replace_text(prepared)
            self._show_editor()
        if self.file_token() != file_token:
            self.file_token_edit.setText(file_token)
        self._unreadable = problems
        if not self._token.has_token():  # signed out while it ran: the list waits, nobody is asked to sign in
            text = self.tr("Pictures found. Click “Load” to show them once you are signed in.")
            self.show_message("info", text)
            return
        self.load()

    def _note_unreadable_cells(self, problems: list[Problem]) -> None:
        """Picture cells that "Find pictures" could not read, added to what the panel just said."""
        self._unreadable = []
        if not problems:
            return
        said = self.message_area.text()
        kind = "error" if self.message_area.kind() == "error" else "warning"
        self.show_message(kind, "\n\n".join(part for part in (said, unreadable_cells_text(problems)) if part))

    def _on_read(self, result: TaskResult) -> None:
        load, self._load_after_read = self._load_after_read, False
        from kdocs_viewer.core.piclist import PicListError  # the worker that answered imported it

        if isinstance(result.error, PicListError):  # a list too big to edit, parsed there
            name = self._reading.name if self._reading is not None else self.tr("Pasted pic list")
            self._show_parse_error(result.error, source=name)
            return
        if result.error is not None:
            self.show_message("error", file_error_text(self._reading, result.error))
            return
        path, prepared = result.value
        self.reveal()
        if isinstance(prepared, BigPicList):
            self._show_big_list(prepared)
            self.show_message(
                "info",
                self.tr("Read %1: %2 pictures. Click “Load” to show them.")
                .replace("%1", prepared.source)
                .replace("%2", f"{prepared.count:,}"),
            )
        else:
            self.editor.replace_text(prepared)
            self._editor_file = path.name
            self._show_editor()
            self.show_message(
                "info", self.tr("Read %1. Click “Load” to show its pictures.").replace("%1", path.name)
            )
        if load:
            self.load()

    # ------------------------------------------------------------------------------------------------------
    # closing

    def cancel(self) -> None:
        """Ask the background calls to stop (a find in flight ends early)."""
        self._closed = True
        self._calls.cancel.set()

    def shutdown(self) -> None:
        """Cancel the background calls (a call on the wire is not waited for). Idempotent."""
        self.cancel()
        self._calls.shutdown()


def _share_link(text: str) -> str | None:
    """``core.files.share_link_id``, asked only of text that names the KDocs host: most text is a file token,
    and this runs on every keystroke, before the network modules may be loaded."""
    if "kdocs.cn" not in text.lower():
        return None
    from kdocs_viewer.core.files import share_link_id

    return share_link_id(text)

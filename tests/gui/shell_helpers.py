"""Plain helpers for the shell tests (imported normally; the fixtures are in ``shell_support``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QWidget,
)

from kdocs_viewer.app import DemoLauncher
from kdocs_viewer.core.saving import ConflictPolicy
from kdocs_viewer.gui.main_window import MainWindow
from kdocs_viewer.gui.pic_input import LargeListQuestion, PicListSummary
from kdocs_viewer.gui.pic_list_editor import PicListEditor
from kdocs_viewer.gui.save_dialog import SaveDialog, SaveSummaryDialog
from kdocs_viewer.gui.signin_dialog import SignInDialog
from kdocs_viewer.gui.token_dialog import TokenDialog
from kdocs_viewer.standin.server import StandinServer

__all__ = ["DemoWindow", "FolderChooser", "TokenTyper", "Ui", "child"]

Q = TypeVar("Q", bound=QObject)


def child(parent: QObject, kind: type[Q], name: str | None = None) -> Q:
    """``parent``'s descendant of ``kind`` (named ``name``, when given); there must be one."""
    found = parent.findChild(kind) if name is None else parent.findChild(kind, name)
    assert found is not None, f"no {kind.__name__}" + ("" if name is None else f" named {name!r}")
    return found


class Ui:
    """The main window as a user sees it: its widgets found by object name, what they show read from them."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window

    @property
    def file_token(self) -> QLineEdit:
        return child(self.window, QLineEdit, "fileToken")

    @property
    def editor(self) -> PicListEditor:
        """The pic list editor, in the side panel (hidden until shown: ``show_pic_list``)."""
        return child(self.window, PicListEditor, "picListEditor")

    def show_pic_list(self) -> None:
        """Show the pic list panel, as View → Pic list panel does."""
        action = child(self.window, QAction, "picListAction")
        if not action.isChecked():
            action.trigger()
        assert self.editor.isVisible() or self.summary.isVisible()

    @property
    def find_button(self) -> QPushButton:
        return child(self.window, QPushButton, "findButton")

    @property
    def load_button(self) -> QPushButton:
        return child(self.window, QPushButton, "loadButton")

    @property
    def summary(self) -> PicListSummary:
        return child(self.window, PicListSummary, "picListSummary")

    @property
    def input_stack(self) -> QStackedWidget:
        """The editor, or the summary of a list too big for it."""
        return child(self.window, QStackedWidget, "picListStack")

    @property
    def pictures(self) -> QStackedWidget:
        """The placeholder, or the picture browser."""
        return child(self.window, QStackedWidget, "pictureStack")

    @property
    def placeholder(self) -> QWidget:
        return child(self.window, QLabel, "placeholder")

    @property
    def counts(self) -> QLabel:
        return child(self.window, QLabel, "countsLabel")

    @property
    def selection(self) -> QLabel:
        return child(self.window, QLabel, "selectionLabel")

    @property
    def api_calls(self) -> QLabel:
        return child(self.window, QLabel, "apiCallsLabel")

    @property
    def token_status(self) -> QToolButton:
        return child(self.window, QToolButton, "tokenStatus")

    @property
    def account(self) -> QLabel:
        """"Signed in as …" in the status bar (hidden while nobody is)."""
        return child(self.window, QLabel, "accountLabel")

    @property
    def sign_out_button(self) -> QToolButton:
        return child(self.window, QToolButton, "signOutButton")

    def message(self) -> tuple[str, str]:
        """(kind, text) of the message under the input: kind is info, warning, error, or "" for none."""
        area = child(self.window, QLabel, "messageArea")
        return str(area.property("kind") or ""), area.text()

    def current_line(self) -> int:
        """The editor cursor's line, 1-based."""
        return self.editor.textCursor().blockNumber() + 1

    def question(self) -> LargeListQuestion | None:
        """The large-list question while it is on screen."""
        shown = [box for box in self.window.findChildren(LargeListQuestion) if box.isVisible()]
        return shown[-1] if shown else None

    def summary_dialog(self) -> SaveSummaryDialog:
        """The save summary on screen."""
        shown = [d for d in self.window.findChildren(SaveSummaryDialog, "saveSummary") if d.isVisible()]
        assert len(shown) == 1, f"{len(shown)} save summaries on screen"
        return shown[0]


class TokenTyper:
    """Replaces ``TokenDialog.exec``: types the next of ``tokens`` (``None`` clicks Forget) and accepts, or
    cancels when ``accept`` is False. Counts the calls and records what the dialog offered.

    A user who pastes tokens: when the window asks to sign in instead (no token yet), they take the sign-in
    dialog's "Paste an access token instead…" at once (``SignInDialog.open`` is replaced too). Sign-in
    prompts taken that way are counted in ``sign_in_prompts``."""

    def __init__(
        self,
        monkeypatch: pytest.MonkeyPatch,
        *tokens: str | None,
        remember: bool = True,
        accept: bool = True,
    ) -> None:
        self.tokens = list(tokens)
        self.remember = remember
        self.accept = accept
        self.calls = 0
        self.reasons: list[str] = []
        self.remember_enabled: list[bool] = []
        self.sign_in_prompts = 0
        typer = self

        def fake_exec(dialog: TokenDialog) -> int:
            typer.calls += 1
            reason = getattr(dialog, "reason_label", None)
            typer.reasons.append(reason.text() if reason is not None else "")
            typer.remember_enabled.append(dialog.remember_check.isEnabled())
            if not typer.accept:
                return QDialog.DialogCode.Rejected.value
            token = typer.tokens[min(typer.calls, len(typer.tokens)) - 1] if typer.tokens else None
            if token is None:
                dialog.forget_button.click()
                return QDialog.DialogCode.Accepted.value
            dialog.token_edit.setText(token)
            if dialog.remember_check.isEnabled():
                dialog.remember_check.setChecked(typer.remember)
            return QDialog.DialogCode.Accepted.value

        def paste_instead(dialog: SignInDialog) -> None:
            typer.sign_in_prompts += 1
            dialog.paste_token_button.click()

        monkeypatch.setattr(TokenDialog, "exec", fake_exec)
        monkeypatch.setattr(SignInDialog, "open", paste_instead)


class FolderChooser:
    """Replaces ``SaveDialog.exec``: picks ``folder`` (and optionally a template/policy) and clicks Save."""

    def __init__(
        self,
        monkeypatch: pytest.MonkeyPatch,
        folder: Path,
        *,
        template: str | None = None,
        policy: ConflictPolicy | None = None,
    ) -> None:
        self.calls = 0
        chooser = self

        def fake_exec(dialog: SaveDialog) -> int:
            chooser.calls += 1
            dialog.set_folder(folder)
            if template is not None:
                dialog.template_edit.setText(template)
            if policy is not None:
                dialog.policy_combo.setCurrentIndex(dialog.policy_combo.findData(policy.value))
            button = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
            assert button is not None and button.isEnabled()
            return QDialog.DialogCode.Accepted.value

        monkeypatch.setattr(SaveDialog, "exec", fake_exec)


@dataclass
class DemoWindow:
    window: MainWindow
    launcher: DemoLauncher

    @property
    def server(self) -> StandinServer:
        assert self.launcher.server is not None
        return self.launcher.server

    @property
    def ui(self) -> Ui:
        return Ui(self.window)

"""Plain helpers for the shell tests (imported normally; the fixtures are in ``shell_support``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QDialogButtonBox

from kdocs_viewer.app import DemoLauncher
from kdocs_viewer.core.saving import ConflictPolicy
from kdocs_viewer.gui.main_window import MainWindow
from kdocs_viewer.gui.save_dialog import SaveDialog
from kdocs_viewer.gui.token_dialog import TokenDialog
from kdocs_viewer.standin.server import StandinServer

__all__ = ["DemoWindow", "FolderChooser", "TokenTyper"]


@dataclass
class DemoWindow:
    window: MainWindow
    launcher: DemoLauncher

    @property
    def server(self) -> StandinServer:
        assert self.launcher.server is not None
        return self.launcher.server


class TokenTyper:
    """Replaces ``TokenDialog.exec``: types the next of ``tokens`` (``None`` clicks Forget) and accepts, or
    cancels when ``accept`` is False. Counts the calls and records what the dialog offered."""

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

        monkeypatch.setattr(TokenDialog, "exec", fake_exec)


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

"""Plain helpers for the shell tests (imported normally; the fixtures are in ``shell_support``)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from PySide6.QtWidgets import QDialog

from kdocs_viewer.app import DemoLauncher
from kdocs_viewer.gui.main_window import MainWindow
from kdocs_viewer.gui.token_dialog import TokenDialog
from kdocs_viewer.standin.server import StandinServer

__all__ = ["DemoWindow", "TokenTyper"]


@dataclass
class DemoWindow:
    window: MainWindow
    launcher: DemoLauncher

    @property
    def server(self) -> StandinServer:
        assert self.launcher.server is not None
        return self.launcher.server


class TokenTyper:
    """Replaces ``TokenDialog.exec``: types ``token`` (or clicks Forget) and accepts, counting the calls."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, token: str | None, *, remember: bool = True) -> None:
        self.token = token
        self.remember = remember
        self.calls = 0
        self.reasons: list[str] = []
        typer = self

        def fake_exec(dialog: TokenDialog) -> int:
            typer.calls += 1
            reason = getattr(dialog, "reason_label", None)
            typer.reasons.append(reason.text() if reason is not None else "")
            if typer.token is None:
                dialog.forget_button.click()
                return QDialog.DialogCode.Accepted.value
            dialog.token_edit.setText(typer.token)
            if dialog.remember_check.isEnabled():
                dialog.remember_check.setChecked(typer.remember)
            return QDialog.DialogCode.Accepted.value

        monkeypatch.setattr(TokenDialog, "exec", fake_exec)

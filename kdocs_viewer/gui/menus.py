"""Window-level actions that are not a flow of their own: the browser's keys (Ctrl+F to the filter,
Ctrl+= / Ctrl+- for the tile size, F5 to retry failed pictures), F11 full screen, and the Help menu's
Keyboard shortcuts and Read me. The main window puts them in its menus; each action has an object name.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMessageBox

from kdocs_viewer.gui.browser import PictureBrowser

__all__ = ["BrowserActions", "WindowActions"]


def _action(parent: QObject, name: str, text: str, keys: list[str] | None, slot: object) -> QAction:
    action = QAction(text, parent)
    action.setObjectName(name)
    if keys:
        action.setShortcuts([QKeySequence(k) for k in keys])
    action.triggered.connect(slot)
    return action


class BrowserActions(QObject):
    """Filter (Ctrl+F), Bigger/Smaller tiles (Ctrl+= / Ctrl+-), Retry failed pictures (F5)."""

    def __init__(self, browser: PictureBrowser, parent: QObject) -> None:
        super().__init__(parent)
        self._browser = browser
        self.filter_action = _action(
            self, "filterAction", self.tr("&Filter pictures"), ["Ctrl+F"], browser.focus_filter
        )
        self.bigger_action = _action(
            self, "biggerTilesAction", self.tr("&Bigger tiles"), ["Ctrl+=", "Ctrl++"], self._bigger
        )
        self.smaller_action = _action(
            self, "smallerTilesAction", self.tr("S&maller tiles"), ["Ctrl+-"], self._smaller
        )
        self.retry_action = _action(
            self, "retryAction", self.tr("Re&try failed pictures"), ["F5"], browser.retry_failed
        )

    def actions(self) -> list[QAction]:
        return [self.filter_action, self.bigger_action, self.smaller_action, self.retry_action]

    @Slot()
    def _bigger(self) -> None:
        self._browser.step_tile_size(1)

    @Slot()
    def _smaller(self) -> None:
        self._browser.step_tile_size(-1)


class WindowActions(QObject):
    """Full screen (F11) and Help → Keyboard shortcuts / Read me for ``window``."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.full_screen_action = _action(
            self, "fullScreenAction", self.tr("F&ull screen"), ["F11"], self.toggle_full_screen
        )
        self.full_screen_action.setCheckable(True)
        self.shortcuts_action = _action(
            self, "shortcutsAction", self.tr("&Keyboard shortcuts"), None, self.show_shortcuts
        )
        self.readme_action = _action(self, "readmeAction", self.tr("&Read me"), None, self.show_readme)

    def actions(self) -> list[QAction]:
        return [self.full_screen_action, self.shortcuts_action, self.readme_action]

    @Slot()
    def toggle_full_screen(self) -> None:
        window = self._window
        window.setWindowState(window.windowState() ^ window.windowState().WindowFullScreen)
        self.full_screen_action.setChecked(window.isFullScreen())

    @Slot()
    def show_shortcuts(self) -> None:
        from kdocs_viewer.gui.help_dialogs import ShortcutsDialog, menu_shortcuts
        from kdocs_viewer.gui.preview import preview_shortcuts

        rows = menu_shortcuts(self._window.menuBar())
        preview = self.tr("Preview")
        rows += [(preview, text, keys) for text, keys in preview_shortcuts()]
        dialog = ShortcutsDialog(rows, self._window)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    @Slot()
    def show_readme(self) -> None:
        from kdocs_viewer.gui.help_dialogs import ReadmeDialog, readme_text

        text = readme_text()
        if text is None:
            QMessageBox.information(
                self._window,
                self.tr("Read me"),
                self.tr("This installation does not include the README."),
            )
            return
        dialog = ReadmeDialog(text, self._window)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

"""Window-level actions that are not a flow of their own: the browser's keys (Ctrl+F to the filter,
Ctrl+= / Ctrl+- for the tile size, F5 to retry failed pictures), Copy and Select all (the focused text
field first, else the pictures), F11 full screen, the Language menu, and the Help menu's Keyboard shortcuts,
Read me and About. The main window puts them in its menus; each action has an object name.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import (
    QApplication,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from kdocs_viewer import __version__
from kdocs_viewer.gui import settings as S
from kdocs_viewer.gui.actions import make_action
from kdocs_viewer.gui.browser import PictureBrowser
from kdocs_viewer.gui.i18n import LANGUAGE_NAMES, SUPPORTED_LANGUAGES, translate_in
from kdocs_viewer.gui.settings import AppSettings

__all__ = ["BrowserActions", "EditActions", "LanguageMenu", "WindowActions"]


class BrowserActions(QObject):
    """Filter (Ctrl+F), Bigger/Smaller tiles (Ctrl+= / Ctrl+-), Retry failed pictures (F5)."""

    def __init__(self, browser: PictureBrowser, parent: QObject) -> None:
        super().__init__(parent)
        self._browser = browser
        self.filter_action = make_action(
            self, self.tr("&Filter pictures"), browser.focus_filter, ["Ctrl+F"], name="filterAction"
        )
        self.bigger_action = make_action(
            self, self.tr("&Bigger tiles"), self._bigger, ["Ctrl+=", "Ctrl++"], name="biggerTilesAction"
        )
        self.smaller_action = make_action(
            self, self.tr("S&maller tiles"), self._smaller, ["Ctrl+-"], name="smallerTilesAction"
        )
        self.retry_action = make_action(
            self, self.tr("Re&try failed pictures"), browser.retry_failed, ["F5"], name="retryAction"
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
        self.full_screen_action = make_action(
            self, self.tr("F&ull screen"), self.toggle_full_screen, ["F11"], name="fullScreenAction"
        )
        self.full_screen_action.setCheckable(True)
        self.shortcuts_action = make_action(
            self, self.tr("&Keyboard shortcuts"), self.show_shortcuts, None, name="shortcutsAction"
        )
        self.readme_action = make_action(
            self, self.tr("&Read me"), self.show_readme, None, name="readmeAction"
        )
        self.about_action = make_action(
            self, self.tr("&About kdocs-viewer"), self.show_about, name="aboutAction"
        )

    def actions(self) -> list[QAction]:
        return [self.full_screen_action, self.shortcuts_action, self.readme_action, self.about_action]

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

    @Slot()
    def show_about(self) -> None:
        QMessageBox.about(
            self._window,
            self.tr("About kdocs-viewer"),
            self.tr(
                "kdocs-viewer %1\nA viewer for the pictures inside KDocs (金山文档) spreadsheets."
            ).replace("%1", __version__),
        )


class EditActions(QObject):
    """Copy (Ctrl+C) and Select all (Ctrl+A): of the focused text field when there is one, else of the
    pictures (the current picture's image; every tile)."""

    def __init__(self, browser: PictureBrowser, parent: QObject) -> None:
        super().__init__(parent)
        self._browser = browser
        self.copy_action = make_action(self, self.tr("&Copy image"), self._copy, "Ctrl+C", name="copyAction")
        self.select_all_action = make_action(
            self, self.tr("Select &all"), self._select_all, "Ctrl+A", name="selectAllAction"
        )

    def actions(self) -> list[QAction]:
        return [self.copy_action, self.select_all_action]

    @Slot()
    def _copy(self) -> None:
        self._to_text_or_pictures("copy", self._browser.copy_current_picture)

    @Slot()
    def _select_all(self) -> None:
        self._to_text_or_pictures("selectAll", self._browser.select_all)

    @staticmethod
    def _to_text_or_pictures(text_method: str, pictures: Callable[[], object]) -> None:
        """``text_method`` of the focused line or text edit (all three have it), else ``pictures()``."""
        focus = QApplication.focusWidget()
        if isinstance(focus, QLineEdit | QPlainTextEdit | QTextEdit):
            getattr(focus, text_method)()
        else:
            pictures()


class LanguageMenu(QObject):
    """View → Language: the choice is saved for the next start (the running window keeps its language)."""

    def __init__(self, settings: AppSettings, language: str, window: QWidget) -> None:
        super().__init__(window)
        self._settings = settings
        self._language = language
        self._window = window
        self.group = QActionGroup(self)
        self.group.setExclusive(True)
        self.by_language: dict[str, QAction] = {}
        for lang in SUPPORTED_LANGUAGES:
            action = QAction(LANGUAGE_NAMES[lang], self)
            action.setCheckable(True)
            action.setData(lang)
            action.setChecked(lang == language)
            self.group.addAction(action)
            self.by_language[lang] = action
        self.group.triggered.connect(self._on_chosen)

    def add_to(self, parent_menu: QMenu) -> QMenu:
        menu = parent_menu.addMenu(self.tr("&Language"))
        for action in self.by_language.values():
            menu.addAction(action)
        return menu

    @Slot(QAction)
    def _on_chosen(self, action: QAction) -> None:
        lang = str(action.data())
        self._settings.set(S.LANGUAGE, lang)
        if lang != self._language:
            # Said in the chosen language (a user who picked it may not read the current one), then in this.
            here = self.tr("The language changes the next time kdocs-viewer starts.")
            there = translate_in(
                lang, "LanguageMenu", "The language changes the next time kdocs-viewer starts."
            )
            lines = dict.fromkeys((there, here))  # once when both are English
            QMessageBox.information(self._window, self.tr("Language"), "\n".join(lines))

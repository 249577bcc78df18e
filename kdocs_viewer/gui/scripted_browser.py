"""How a sign-in opens the browser at the authorization URL: the desktop's browser, or a scripted one.

The scripted browser is the stand-in's (demo and tests): it really visits the consent page over HTTP.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices

from kdocs_viewer.core.redact import redact
from kdocs_viewer.gui.tasks import BackgroundCalls, TaskResult

__all__ = ["OpenUrl", "ScriptedBrowser", "open_in_system_browser"]

OpenUrl = Callable[[str], bool]


def open_in_system_browser(url: str) -> bool:
    """The default ``open_url``: the desktop's browser. False when none could be started."""
    return bool(QDesktopServices.openUrl(QUrl(url)))


class ScriptedBrowser(QObject):
    """A browser for the stand-in, for the demo and tests: it loads the authorization URL over HTTP, presses
    Allow (or Deny) on the consent page and follows the redirect to the app's listener — in the background,
    like a real browser, with no shortcut into the server (``standin.browser.visit``).

    Use ``open`` as a ``SignInController``'s ``open_url``. ``visited(status, page)`` gives the page the app's
    listener answered; ``failed(text)`` when the consent page led nowhere.
    """

    visited = Signal(int, str)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, *, allow: bool = True) -> None:
        super().__init__(parent)
        self.allow = allow
        self.opened: list[str] = []
        self._calls = BackgroundCalls(self, max_threads=1)
        self._calls.finished.connect(self._on_done)

    def open(self, url: str) -> bool:
        self.opened.append(url)
        allow = self.allow

        def go() -> tuple[int, str]:
            from kdocs_viewer.standin.browser import visit

            page = visit(url, allow=allow)
            return page.status_code, page.text

        self._calls.submit("visit", go)
        return True

    @Slot(object)
    def _on_done(self, result: object) -> None:
        if not isinstance(result, TaskResult):
            return
        if result.error is not None:
            self.failed.emit(redact(str(result.error)) or type(result.error).__name__)
            return
        status, page = result.value
        self.visited.emit(int(status), str(page))

    def shutdown(self) -> None:
        self._calls.shutdown()

"""``kdocs-viewer``: command line, QApplication, translators, crash handling and the main window.

Start-up order matters: arguments are parsed before Qt is imported (``--help``/``--version`` work without a
display), log redaction is installed before anything can log, the window is shown before any slow work (the
keyring lookup runs off-thread afterwards, the picture browser starts ``core.warmup`` once it has painted, and
the demo server starts right after the first paint).

``--demo`` runs the stand-in KDocs server in this process on a free loopback port and signs in to it the real
way — the loopback listener, the consent page (answered at once, ``auto_consent``) visited by a scripted
browser instead of the system one, the code exchange — with the stand-in's demo app. The sign-in is kept for
this session only: no token or key reaches the keyring or the settings.

Qt waits for the D-Bus session bus on the GUI thread without a timeout (under X11 already at the first
widget), so before the QApplication exists the bus is probed with a deadline, alongside the Qt imports; a bus
that accepts but does not answer is replaced by ``DISABLED_ADDRESS`` for this process, and the status bar
says so. The keyring then reports itself unavailable, as on a machine without one.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import traceback
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from kdocs_viewer import __version__
from kdocs_viewer.core.redact import install_log_redaction, redact
from kdocs_viewer.core.session_bus import DISABLED_ADDRESS, BusProbe, BusState, session_bus_address

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from kdocs_viewer.gui.main_window import MainWindow
    from kdocs_viewer.standin.config import StandinConfig
    from kdocs_viewer.standin.server import StandinServer

__all__ = [
    "APP_ID",
    "BUS_PROBE_SECONDS",
    "DemoLauncher",
    "build_parser",
    "create_application",
    "install_excepthook",
    "main",
    "user_error_text",
]

log = logging.getLogger("kdocs_viewer")

_MAX_ERROR_CHARS = 300
BUS_PROBE_SECONDS = 2.0  # a live session bus answers in about a millisecond

APP_ID = "io.github.kdocsviewer.viewer"
"""The reverse-DNS id of the desktop file, the AppStream metainfo and the icon (resources/linux/)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kdocs-viewer",
        description="View and save the pictures inside a KDocs (金山文档) spreadsheet.",
        epilog="The access token is never a command-line argument: the viewer asks for it and can keep it "
        "in the system keyring.",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start the built-in stand-in server with a demo workbook and show its pictures",
    )
    parser.add_argument("--base-url", metavar="URL", help="KDocs API base URL (default: the real service)")
    parser.add_argument("--file-token", metavar="TOKEN", help="the workbook's file token (its document id)")
    parser.add_argument("--pics", metavar="FILE", help="a pic list file (JSON, CSV/TSV or text) to load")
    parser.add_argument(
        "--lang", choices=("en", "zh_CN"), help="interface language (remembered; default: system locale)"
    )
    parser.add_argument(
        "--quit-after-first-screen",
        nargs="?",
        const=60.0,
        type=float,
        metavar="SECONDS",
        help="a smoke test: quit (status 0) once the first screen is painted — with --demo, its first "
        "pictures; status 1 if that takes longer than SECONDS (default 60)",
    )
    parser.add_argument("--version", action="version", version=f"kdocs-viewer {__version__}")
    return parser


def user_error_text(exc: BaseException) -> str:
    """A short, redacted one-liner about ``exc`` for a dialog: no traceback, URL query or token."""
    text = redact(" ".join(str(exc).split()))
    line = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return line if len(line) <= _MAX_ERROR_CHARS else line[: _MAX_ERROR_CHARS - 1] + "…"


_in_hook = threading.local()


def _show_error_dialog(exc: BaseException) -> None:
    from PySide6.QtCore import QCoreApplication, QThread
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication.instance()
    if app is None or QThread.currentThread() is not app.thread():
        return
    if getattr(_in_hook, "active", False):  # an error while showing the error: log only, no dialog storm
        return
    _in_hook.active = True
    try:
        title = QCoreApplication.translate("ErrorDialog", "Unexpected error")
        text = QCoreApplication.translate(
            "ErrorDialog", "Something went wrong:\n%1\n\nThe details were written to the log."
        )
        QMessageBox.critical(QApplication.activeWindow(), title, text.replace("%1", user_error_text(exc)))
    finally:
        _in_hook.active = False


def _excepthook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    # The log record factory installed by install_log_redaction masks tokens and URL queries in the text.
    log.critical("unhandled exception", exc_info=(exc_type, exc, tb))
    try:
        _show_error_dialog(exc)
    except Exception:  # never let the hook itself raise
        log.error("could not show the error dialog: %s", redact(traceback.format_exc()))


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None:
        return
    log.critical(
        "unhandled exception in thread %s",
        args.thread.name if args.thread is not None else "?",
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


def install_excepthook() -> None:
    """Unhandled exceptions: redacted traceback to the log, a short redacted dialog for people."""
    install_log_redaction()
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook


def create_application(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication with names (for QSettings), HiDPI defaults and the icon; reuses a running one."""
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtGui import QGuiApplication, QIcon
    from PySide6.QtWidgets import QApplication

    from kdocs_viewer.gui import settings

    QCoreApplication.setApplicationName(settings.APP_NAME)
    QCoreApplication.setOrganizationName(settings.ORG_NAME)
    QCoreApplication.setOrganizationDomain(settings.ORG_DOMAIN)
    QCoreApplication.setApplicationVersion(__version__)
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    # Qt 6 scales by default; pass fractional factors through (125 %, 150 %) instead of rounding them.
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication([sys.argv[0] if sys.argv else "kdocs-viewer", *(argv or [])])
    QGuiApplication.setApplicationDisplayName("kdocs-viewer")
    QGuiApplication.setDesktopFileName(APP_ID)  # the .desktop file's name: Wayland matches windows by it
    from importlib import resources

    icon_path = resources.files("kdocs_viewer") / "icons" / "kdocs-viewer.svg"
    if icon_path.is_file():
        app.setWindowIcon(QIcon(str(icon_path)))
    return app


class DemoLauncher:
    """Starts the stand-in in this process and signs the window in to it (the ``--demo`` path, and tests).

    The stand-in always consents at once here (``auto_consent``): the scripted browser has nobody to click.
    """

    def __init__(self, window: MainWindow, config: StandinConfig | None = None) -> None:
        self.window = window
        self.config = config
        self.server: StandinServer | None = None

    def start(self) -> None:
        from dataclasses import replace

        from kdocs_viewer.core.auth import AppCredentials
        from kdocs_viewer.standin.config import StandinConfig
        from kdocs_viewer.standin.server import StandinServer

        config = replace(self.config or StandinConfig(), auto_consent=True)
        try:
            server = StandinServer(config)
            base_url = server.start()
        except Exception as exc:
            log.error("demo server did not start: %s", exc)
            self.window.show_message("error", user_error_text(exc))
            return
        self.server = server
        app = AppCredentials(config.app_id, config.app_key)
        self.window.start_demo(base_url, app, config.file_token)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


def _leave_silent_bus(bus_probe: BusProbe) -> bool:
    """Point this process at no session bus when the probe found it silent; True when it did."""
    if bus_probe.result() is not BusState.SILENT:
        return False
    log.warning(
        "the D-Bus session bus (%s) did not answer within %g s: running without it",
        os.environ.get("DBUS_SESSION_BUS_ADDRESS", "$XDG_RUNTIME_DIR/bus"),
        BUS_PROBE_SECONDS,
    )
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = DISABLED_ADDRESS
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kdocs-viewer`` console script."""
    args = build_parser().parse_args(list(argv) if argv is not None else None)
    install_log_redaction()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_excepthook()
    # Windows and macOS have no session bus in Qt's way; elsewhere the probe overlaps the Qt imports.
    bus_probe = (
        None if sys.platform in ("win32", "darwin") else BusProbe(session_bus_address(), BUS_PROBE_SECONDS)
    )

    from PySide6.QtCore import QCoreApplication, QTimer

    from kdocs_viewer.gui import settings as S
    from kdocs_viewer.gui.i18n import install_translators, pick_language
    from kdocs_viewer.gui.main_window import MainWindow

    without_bus = bus_probe is not None and _leave_silent_bus(bus_probe)
    app = create_application()
    app_settings = S.AppSettings()
    language = pick_language(args.lang, app_settings.get(S.LANGUAGE))
    if args.lang:
        app_settings.set(S.LANGUAGE, language)
    translators = install_translators(app, language)
    if args.base_url and not args.demo:
        app_settings.set(S.BASE_URL, args.base_url)

    window = MainWindow(
        app_settings=app_settings, base_url=None if args.demo else args.base_url, language=language
    )
    window.show()
    if without_bus:
        window.statusBar().showMessage(
            QCoreApplication.translate(
                "SessionBus",
                "Running without D-Bus: the session bus did not answer, so there is no keyring, screen "
                "reader or input method this time.",
            )
        )
    launcher: DemoLauncher | None = None
    if args.demo:
        launcher = DemoLauncher(window)
        QTimer.singleShot(0, launcher.start)  # after the first paint: the window appears at once
    else:
        window.begin(file_token=args.file_token or "", pics_file=args.pics)
    if args.quit_after_first_screen is not None:
        from kdocs_viewer.gui.first_screen import FirstScreenWatch

        expect_pictures = bool(args.demo or args.file_token or args.pics)
        timeout = args.quit_after_first_screen
        FirstScreenWatch(window, expect_pictures=expect_pictures, timeout=timeout).start()
    try:
        code = int(app.exec())
    finally:
        window.shutdown()
        if launcher is not None:
            launcher.stop()
        del translators
    return code


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Take a screenshot of the viewer on the demo workbook: ``docs/screenshot.png`` by default.

Runs the same start-up as ``kdocs-viewer --demo`` (the stand-in server in this process) on Qt's offscreen
platform unless a display is set, waits until the visible thumbnails are in, selects a few tiles so the
selection shows, and grabs the window. Settings go to a throw-away file, so your own are left alone.
``--picker`` grabs "Open workbook…" instead, with the demo's workbooks listed (and ``--search`` typed).

``--dialog signin`` grabs the guided "Sign in with KDocs" dialog instead, as a first run shows it (with an
example APPID typed in): ``docs/signin-dialog.png`` by default.

``--dark`` uses the Fusion style with a dark palette (as a dark desktop theme would give it).

    .venv/bin/python scripts/screenshot.py [--lang zh_CN] [--dark] [--out docs/screenshot.png] [--size WxH]
    .venv/bin/python scripts/screenshot.py --dark --out docs/screenshot-dark.png
    .venv/bin/python scripts/screenshot.py --lang zh_CN --out docs/screenshot-zh.png
    .venv/bin/python scripts/screenshot.py --dialog signin [--lang zh_CN] [--out docs/signin-dialog.png]
    .venv/bin/python scripts/screenshot.py --picker [--search TEXT] --out picker.png
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lang", choices=("en", "zh_CN"), default="en")
    parser.add_argument(
        "--out",
        type=Path,
        help="the PNG to write (default: docs/screenshot.png, or "
        "docs/signin-dialog.png with --dialog signin)",
    )
    parser.add_argument("--dialog", choices=("signin",), help="grab this dialog instead of the window")
    parser.add_argument("--size", default="1380x860", help="window size WxH (logical pixels)")
    parser.add_argument("--pictures", type=int, default=240, help="pictures in the demo workbook")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the thumbnails")
    parser.add_argument("--picker", action="store_true", help="grab the “Open workbook…” dialog instead")
    parser.add_argument("--search", default="", help="with --picker: text typed into its search box")
    parser.add_argument("--dark", action="store_true", help="Fusion style with a dark palette")
    args = parser.parse_args()
    if args.out is None:
        args.out = ROOT / "docs" / ("signin-dialog.png" if args.dialog == "signin" else "screenshot.png")
    return args


def main() -> int:
    args = _parse()
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    settings_dir = tempfile.mkdtemp(prefix="kdocs-shot-")
    os.environ["KDOCS_VIEWER_SETTINGS"] = str(Path(settings_dir) / "settings.ini")
    sys.path.insert(0, str(ROOT))

    from PySide6.QtCore import QCoreApplication, QEventLoop

    from kdocs_viewer.app import DemoLauncher, create_application, install_excepthook
    from kdocs_viewer.core.redact import install_log_redaction
    from kdocs_viewer.gui import settings as S
    from kdocs_viewer.gui.i18n import install_translators
    from kdocs_viewer.gui.main_window import MainWindow
    from kdocs_viewer.gui.picture_grid import PictureGrid
    from kdocs_viewer.standin.config import StandinConfig

    install_log_redaction()
    install_excepthook()
    app = create_application()
    if args.dark:
        from kdocs_viewer.gui.theme import dark_palette

        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    translators = install_translators(app, args.lang)
    app_settings = S.AppSettings()
    width, height = (int(v) for v in args.size.lower().split("x"))
    window = MainWindow(app_settings=app_settings, language=args.lang)
    window.resize(width, height)
    window.show()
    launcher = DemoLauncher(window, StandinConfig(pictures=args.pictures, workbooks=12 if args.picker else 8))

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.01)

    if args.dialog == "signin":
        try:
            return _grab_sign_in_dialog(window, pump, args.out)
        finally:
            window.close()
            del translators
            QCoreApplication.processEvents()

    try:
        pump(0.2)
        launcher.start()
        deadline = time.monotonic() + args.timeout
        browser = window.browser
        grid = browser.findChild(PictureGrid, "pictureGrid")
        assert grid is not None
        while time.monotonic() < deadline:
            pump(0.2)
            stats = browser.stats()
            visible, _ = grid.visible_rows()
            if (
                stats.pictures
                and len(visible)
                and stats.loaded + stats.failed >= min(len(visible), stats.pictures)
            ):
                break
        else:
            print("timed out waiting for thumbnails; taking the screenshot anyway", file=sys.stderr)
        refs = browser.all_refs()
        browser.select_refs(ref.ident for ref in refs[1:4])
        grid.setFocus()  # no text cursor blinking in the file token field
        pump(1.2)  # selection settles, status bar and badges repaint
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shown = _open_picker(window, args.search, pump) if args.picker else window
        if not shown.grab().save(str(args.out)):
            print(f"could not write {args.out}", file=sys.stderr)
            return 1
        print(args.out)
    finally:
        window.close()
        launcher.stop()
        del translators
        QCoreApplication.processEvents()
    return 0


def _grab_sign_in_dialog(window: object, pump: object, out: Path) -> int:
    """The first-run sign-in dialog, filled in as a user would have it just before clicking Sign in."""
    from PySide6.QtWidgets import QLineEdit

    from kdocs_viewer.gui.main_window import MainWindow
    from kdocs_viewer.gui.signin_dialog import SignInDialog

    assert isinstance(window, MainWindow) and callable(pump)
    window.signin.prompt()
    pump(0.3)
    dialog = window.findChild(SignInDialog, "signInDialog")
    assert dialog is not None
    app_id = dialog.findChild(QLineEdit, "appId")
    app_key = dialog.findChild(QLineEdit, "appKey")
    assert app_id is not None and app_key is not None
    app_id.setText("AK20240601EXAMPLE")
    app_key.setText("example-app-key")  # shown as dots
    app_key.setFocus()
    dialog.adjustSize()
    pump(0.5)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not dialog.grab().save(str(out)):
        print(f"could not write {out}", file=sys.stderr)
        return 1
    print(out)
    return 0


def _open_picker(window: Any, search: str, pump: Any) -> Any:
    """File → Open workbook…, its recent list loaded (the demo loads it at start), ``search`` typed."""
    from PySide6.QtWidgets import QLineEdit

    from kdocs_viewer.gui.workbook_picker import WorkbookPicker

    window.opener.open_action.trigger()
    pump(0.5)
    picker = window.findChild(WorkbookPicker, "workbookPicker")
    assert picker is not None
    deadline = time.monotonic() + 10
    while not picker.shown_items() and time.monotonic() < deadline:
        pump(0.1)
    box = picker.findChild(QLineEdit, "workbookSearch")
    assert box is not None
    box.setText(search)
    pump(0.5)
    return picker


if __name__ == "__main__":
    sys.exit(main())

"""Start the viewer (or a bare Qt window) and print the monotonic time of its first paint, then exit.

``python -m bench.startup_probe app ARGS…`` runs ``kdocs_viewer.app.main(ARGS)`` with an application-wide
event filter that waits for the first ``QEvent.Paint`` of a widget inside a ``QMainWindow``;
``python -m bench.startup_probe bare`` shows an empty QMainWindow the same way (the floor: what any PySide6
program pays on this machine). The parent compares the printed ``time.monotonic()`` (CLOCK_MONOTONIC, the
same clock in every process) with its own reading just before it started the process.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

MARK = "FIRST-PAINT "


def _install_first_paint_hook() -> None:
    """Make every QApplication created from now on report its first main-window paint and exit."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

    class FirstPaint(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if (event.type() == QEvent.Type.Paint and isinstance(obj, QWidget)
                    and isinstance(obj.window(), QMainWindow)):
                print(f"{MARK}{time.monotonic():.6f} {type(obj.window()).__name__}", flush=True)
                os._exit(0)  # measured: no need for an orderly shutdown
            return False

    original_init = QApplication.__init__
    hook = FirstPaint()

    def init(self: QApplication, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.installEventFilter(hook)

    QApplication.__init__ = init  # type: ignore[method-assign]


def _bare() -> int:
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setCentralWidget(QLabel("kdocs-viewer"))
    window.resize(1280, 800)
    window.show()
    return app.exec()


def main() -> int:
    mode, args = sys.argv[1], sys.argv[2:]
    _install_first_paint_hook()
    if mode == "bare":
        return _bare()
    from kdocs_viewer.app import main as app_main

    sys.argv = ["kdocs-viewer", *args]
    result = app_main(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())

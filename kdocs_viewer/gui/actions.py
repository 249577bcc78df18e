"""One way to make a window-level ``QAction``: text, object name, shortcut(s), the slot it triggers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence

__all__ = ["Shortcut", "make_action"]

# A standard key (the platform's own keys, e.g. Copy), one key sequence, or several (the first is shown).
Shortcut = QKeySequence.StandardKey | str | Sequence[str] | None


def make_action(
    parent: QObject, text: str, slot: Callable[..., object], shortcut: Shortcut = None, *, name: str = ""
) -> QAction:
    action = QAction(text, parent)
    if name:
        action.setObjectName(name)
    if isinstance(shortcut, QKeySequence.StandardKey):
        action.setShortcuts(shortcut)
    elif isinstance(shortcut, str):
        action.setShortcut(QKeySequence(shortcut))
    elif shortcut:
        action.setShortcuts([QKeySequence(key) for key in shortcut])
    action.triggered.connect(slot)
    return action

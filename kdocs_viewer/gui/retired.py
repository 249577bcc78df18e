"""Closing a workbook, or the window, never waits for the network.

A worker already waiting on a picture GET or an API call cannot be interrupted (its cancel flag is seen only
between chunks); joining it froze the window until the server answered — seconds on a slow line, up to the
read timeout on a dead one. So such workers are left to end on their own, their results going nowhere.
They report through a QObject's signals; ``retire`` keeps that object alive, without a parent, until its
workers are gone, and then deletes it here on the GUI thread (a QObject is never deleted by a worker: see
``gui.decode`` on Qt's locks and the GIL).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, QTimer
from shiboken6 import Shiboken

__all__ = ["prune", "retire", "retired_count"]

CHECK_MS = 250  # how often the retired are looked at while any is left

_retired: list[tuple[QObject, Callable[[], bool]]] = []


def retire(signals: QObject, busy: Callable[[], bool]) -> None:
    """(GUI thread) Take ``signals`` from its owner and keep it until ``busy()`` is False, then delete it.
    When nothing is busy already, it stays with its owner, deleted with it as usual. Retiring the same
    object again (a second shutdown) changes nothing."""
    if not busy() or any(kept is signals for kept, _ in _retired):
        return  # its owner deletes it as usual, or it is kept already
    signals.setParent(None)  # outlives its owner
    _retired.append((signals, busy))
    if len(_retired) == 1:
        _schedule()


def retired_count() -> int:
    """Signal objects still kept for workers that have not ended."""
    return len(_retired)


def prune() -> int:
    """(GUI thread) Delete the signal objects whose workers have ended; how many are still kept."""
    still = []
    for signals, busy in _retired:
        if busy():
            still.append((signals, busy))
        else:
            Shiboken.delete(signals)
    _retired[:] = still
    return len(still)


def _schedule() -> None:
    app = QCoreApplication.instance()
    if app is not None:
        QTimer.singleShot(CHECK_MS, app, _check)


def _check() -> None:
    if prune():
        _schedule()

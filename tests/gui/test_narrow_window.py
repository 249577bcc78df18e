"""A 640×480 window: the status bar's parts sit side by side (cut with "…", never painted over each other),
the window really is that narrow, and the filter box keeps a usable width."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from PySide6.QtWidgets import QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from kdocs_viewer.gui.browser_toolbar import FILTER_MIN_WIDTH
from kdocs_viewer.gui.eliding_label import ElidingLabel
from kdocs_viewer.gui.status_bar import StatusBar
from tests.gui.shell_helpers import DemoWindow, child

pytest_plugins = ["tests.gui.shell_support"]


def test_status_bar_and_filter_at_640_by_480(demo_window: Callable[..., DemoWindow], qtbot: QtBot) -> None:
    window = demo_window(pictures=12).window
    window.resize(640, 480)
    qtbot.waitUntil(lambda: window.width() == 640)  # nothing holds the window wider
    bar = child(window, StatusBar)
    bar.show_stats(window.browser.stats())
    bar.show_usage(1234, 10_000)
    qtbot.waitUntil(lambda: bar.counts_label.is_elided())  # it had to give way at this width

    everything: list[QWidget] = [bar.counts_label, bar.selection_label, bar.api_label, bar.token_button]
    everything += [bar.account_label, bar.sign_out_button, bar.sign_in_button]
    parts = [w for w in everything if w.isVisible()]
    boxes = sorted((w.geometry() for w in parts), key=lambda r: r.left())
    assert len(boxes) >= 5
    for left, right in itertools.pairwise(boxes):
        assert left.right() < right.left(), f"{left} overlaps {right}"
    assert all(box.left() >= 0 and box.right() < bar.width() for box in boxes)
    assert bar.counts_label.toolTip() == bar.counts_label.text()  # what was cut is one hover away
    assert isinstance(bar.counts_label, ElidingLabel)

    search = child(window.browser, QLineEdit, "pictureFilter")
    assert search.isVisible() and search.width() >= FILTER_MIN_WIDTH

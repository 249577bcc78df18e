"""The window's "Find pictures": picture cells in the DISPIMG shape, and cells it could not read are told."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.cells import FoundPictures
from kdocs_viewer.core.models import Problem
from kdocs_viewer.core.piclist import parse_pic_list
from tests.gui.shell_helpers import DemoWindow, Ui

pytest_plugins = ["tests.gui.shell_support"]


def test_find_pictures_reads_dispimg_cells(demo_window: Callable[..., DemoWindow]) -> None:
    demo = demo_window(pictures=6, cell_shape="dispimg-camel")
    ui = Ui(demo.window)
    parsed = parse_pic_list(ui.editor.toPlainText())
    expected = demo.server.pictures()
    assert [(r.ident, r.cell, r.caption) for r in parsed.pics] == [
        (r.ident, r.cell, r.caption) for r in expected
    ]
    assert ui.message() == ("info", "Loaded 6 pictures.")


def test_unreadable_picture_cells_are_told_after_the_load(
    demo_window: Callable[..., DemoWindow], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stand-in serves only readable cells; one unreadable cell is added to what it really answered.
    real = KDocsClient.find_pictures
    unreadable = Problem("cell Photos!A9", "a picture cell without pic_key, pic_data or sha1: …")

    def find(self: KDocsClient, file_token: str, *, cancel: threading.Event | None = None) -> Any:
        found = real(self, file_token, cancel=cancel)
        return FoundPictures(found.pics, [*found.problems, unreadable])

    monkeypatch.setattr(KDocsClient, "find_pictures", find)
    demo = demo_window(pictures=6)
    kind, text = Ui(demo.window).message()
    assert kind == "warning"
    assert text.splitlines() == [
        "Loaded 6 pictures.",
        "",
        "Picture cells that could not be read: 1",
        "cell Photos!A9: a picture cell without pic_key, pic_data or sha1: …",
    ]

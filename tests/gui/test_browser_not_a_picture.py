"""A picture host answering a login page: the tile says so (the core's one rule), not "not a valid image"."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kdocs_viewer.gui.picture_model import PicState
from tests.gui.browser_helpers import MakeBrowser, model_of

pytest_plugins = ["tests.gui.browser_support"]

PORTAL = "the server sent an HTML page (“Wi-Fi login”), not a picture"


def test_a_login_page_instead_of_a_picture_shows_the_reason_on_its_tile(
    qtbot: QtBot, make_browser: MakeBrowser
) -> None:
    h = make_browser(pictures=4, start=False)
    browser, server = h.browser, h.server
    refs = server.pictures()
    # Every GET meets the portal, also one that starts again after the grid cancelled a fetch in flight.
    server.queue_image_faults(["html"] * len(refs) * 3)
    h.start(refs)
    qtbot.waitUntil(lambda: browser.stats().failed == len(refs), timeout=10_000)
    model = model_of(browser)
    for ref in refs:
        item = model.item_for(ref.ident)
        assert item is not None and item.state is PicState.FAILED
        assert item.error == PORTAL
        row = model.row_of(ref.ident)
        assert row is not None
        assert PORTAL in model.data(model.index(row), Qt.ItemDataRole.ToolTipRole)

"""Fixtures for the browser's GUI tests: a shown PictureBrowser on a fresh stand-in (a pytest plugin)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.gui.browser import PictureBrowser
from kdocs_viewer.standin.server import StandinServer
from tests.gui.browser_helpers import Harness, MakeBrowser, write_colour_pictures


@pytest.fixture(scope="module")
def small_pictures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_colour_pictures(tmp_path_factory.mktemp("pictures"), (160, 120), 20)


@pytest.fixture
def make_browser(
    qtbot: QtBot, standin_factory: Callable[..., StandinServer], small_pictures: Path
) -> Iterator[MakeBrowser]:
    """A shown PictureBrowser (started unless ``start=False``) on a fresh stand-in; shut down at teardown.

    The stand-in serves the small files unless ``demo=True`` (the generated demo workbook)."""
    made: list[Harness] = []

    def make(
        *, size: tuple[int, int] = (640, 420), start: bool = True, demo: bool = False, **config: Any
    ) -> Harness:
        if not demo:
            config.setdefault("dataset", small_pictures)
        server = standin_factory(**config)
        harness = Harness(PictureBrowser(), server, KDocsClient("demo-token", server.base_url))
        qtbot.addWidget(harness.browser)
        harness.browser.resize(*size)
        harness.browser.show()
        qtbot.waitExposed(harness.browser)
        made.append(harness)
        if start:
            harness.start()
        return harness

    yield make
    for harness in made:
        harness.browser.shutdown()
        harness.client.close()

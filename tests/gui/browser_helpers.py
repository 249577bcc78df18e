"""The browser test harness's types (kept apart from its fixtures, which load as a pytest plugin)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.models import PicRef
from kdocs_viewer.gui.browser import PictureBrowser
from kdocs_viewer.standin.server import StandinServer

FILE_TOKEN = "demo-workbook"


@dataclass
class Harness:
    browser: PictureBrowser
    server: StandinServer
    client: KDocsClient

    def start(self, refs: list[PicRef] | None = None) -> None:
        self.browser.start(self.client, FILE_TOKEN, refs if refs is not None else self.server.pictures())


MakeBrowser = Callable[..., Harness]

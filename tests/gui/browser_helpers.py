"""The GUI tests' harness types and test pictures (kept apart from the fixtures, which load as plugins)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

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


def write_colour_pictures(folder: Path, first: tuple[int, int], widen: int) -> Path:
    """Six plain-colour pictures (JPEG and PNG in turn), each ``widen`` px wider than the one before: files
    the stand-in serves from disk at once (its demo renders each picture with Pillow, ~0.2 s apiece)."""
    colours = ["#d23", "#2a6", "#36c", "#fb0", "#a3c", "#0bb"]
    width, height = first
    for index, colour in enumerate(colours):
        image = Image.new("RGB", (width + widen * index, height), colour)
        image.save(folder / f"{index:02d}.{'jpg' if index % 2 == 0 else 'png'}")
    return folder

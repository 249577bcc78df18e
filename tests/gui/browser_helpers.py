"""The GUI tests' harness types and test pictures (kept apart from the fixtures, which load as plugins)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from PIL import Image
from PySide6.QtCore import QCoreApplication, QEvent, QObject

from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.models import PicRef
from kdocs_viewer.gui.browser import PictureBrowser
from kdocs_viewer.gui.lease_keeper import LeaseKeeper
from kdocs_viewer.gui.picture_filter import PictureFilterProxy
from kdocs_viewer.gui.picture_grid import PictureGrid
from kdocs_viewer.gui.picture_model import PictureItem, PictureModel
from kdocs_viewer.gui.preview import PreviewDialog
from kdocs_viewer.gui.thumbnails import ThumbnailLoader
from kdocs_viewer.standin.server import StandinServer

FILE_TOKEN = "demo-workbook"

Q = TypeVar("Q", bound=QObject)


# --- the browser's parts, reached as Qt lets anyone reach them: by type and object name, through the view ---


def grid_of(browser: PictureBrowser) -> PictureGrid:
    grid = browser.findChild(PictureGrid, "pictureGrid")
    assert grid is not None
    return grid


def proxy_of(browser: PictureBrowser) -> PictureFilterProxy:
    """The model the grid shows (filtered and sorted)."""
    proxy = grid_of(browser).model()
    assert isinstance(proxy, PictureFilterProxy)
    return proxy


def model_of(browser: PictureBrowser) -> PictureModel:
    """The model of every picture of the workbook, behind the proxy."""
    model = proxy_of(browser).sourceModel()
    assert isinstance(model, PictureModel)
    return model


def live(parent: QObject, kind: type[Q]) -> list[Q]:
    """``parent``'s children of ``kind`` that are not waiting for their deferred deletion (a restart or a
    shutdown ``deleteLater``s the previous session's workers)."""
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return parent.findChildren(kind)


def _the_one(parent: QObject, kind: type[Q]) -> Q:
    found = live(parent, kind)
    assert len(found) == 1, f"{len(found)} {kind.__name__} objects"
    return found[0]


def keeper_of(browser: PictureBrowser) -> LeaseKeeper:
    """The lease keeper of the current session."""
    return _the_one(browser, LeaseKeeper)


def loader_of(browser: PictureBrowser) -> ThumbnailLoader:
    """The thumbnail loader of the current session."""
    return _the_one(browser, ThumbnailLoader)


def preview_of(browser: PictureBrowser) -> PreviewDialog | None:
    found = live(browser, PreviewDialog)
    return found[0] if found else None


def visible_items(browser: PictureBrowser) -> list[PictureItem]:
    """The rows on screen now, in view order."""
    proxy, model = proxy_of(browser), model_of(browser)
    rows = grid_of(browser).visible_rows()[0]
    return [model.item(proxy.mapToSource(proxy.index(row, 0)).row()) for row in rows]


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

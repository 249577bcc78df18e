"""What the browser asks for, and in which order: the rows on screen first, then the prefetch margin; which
of them may be fetched now and which only looked up in the disk cache; and the order of the first resolve
(what is on screen, topped up to one full batch, before everything else).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from kdocs_viewer.core.contract import MAX_PICS_PER_CALL
from kdocs_viewer.core.models import PicRef
from kdocs_viewer.gui.picture_filter import PictureFilterProxy
from kdocs_viewer.gui.picture_grid import PictureGrid
from kdocs_viewer.gui.picture_model import PicState, PictureItem, PictureModel

if TYPE_CHECKING:
    from kdocs_viewer.core.session import PictureSession
    from kdocs_viewer.gui.lease_keeper import LeaseKeeper
    from kdocs_viewer.gui.thumbnails import ThumbnailLoader

__all__ = ["TileRequests"]


class TileRequests:
    """The browser's rows as the loader and the keeper need them; holds no state of its own."""

    def __init__(self, grid: PictureGrid, proxy: PictureFilterProxy, model: PictureModel) -> None:
        self._grid = grid
        self._proxy = proxy
        self._model = model

    def items_at(self, rows: Iterable[int]) -> list[PictureItem]:
        proxy, model = self._proxy, self._model
        return [model.item(proxy.mapToSource(proxy.index(row, 0)).row()) for row in rows]

    def initial_order(self) -> tuple[list[PicRef], list[PicRef]]:
        """(first call: what is on screen, topped up to one full batch; everything else, in view order)."""
        visible, _ = self._grid.visible_rows()
        count = self._proxy.rowCount()
        if not visible and count:
            visible = range(min(count, MAX_PICS_PER_CALL))
        start = visible.start if visible else 0
        first_rows = range(start, min(count, start + max(len(visible), MAX_PICS_PER_CALL)))
        first = [item.ref for item in self.items_at(first_rows)]
        taken = {ref.ident for ref in first}
        items = self._model.items()  # view order = model order minus the filtered-out rows
        if not self._proxy.is_filtering():  # the usual case, 10,000 rows: no per-row predicate call
            return first, [item.ref for item in items if item.ident not in taken]
        accepts = self._proxy.accepts
        rest = [item.ref for item in items if accepts(item) and item.ident not in taken]
        rest += [item.ref for item in items if not accepts(item)]  # filtered-out rows last
        return first, rest

    @staticmethod
    def usable(item: PictureItem, session: PictureSession | None, refresh_enabled: bool) -> bool:
        """Worth a fetch now. Failed rows wait for ``retry_failed``; rows whose link is due wait for the
        keeper's batched refresh — unless refresh is off: then the fetch renews it (the session batches
        those requests too)."""
        if item.state is PicState.FAILED or session is None:
            return False
        if item.thumb_bucket:  # fetched before: the bytes are most likely in the session's cache
            return True
        if session.usable_lease(item.ref) is not None:
            return True
        return not refresh_enabled and item.lease is not None

    def request_visible(
        self,
        loader: ThumbnailLoader,
        keeper: LeaseKeeper,
        session: PictureSession | None,
        *,
        refresh_enabled: bool,
        paused: bool,
    ) -> None:
        """Tell the keeper what is on screen and ask the loader for the tiles of the screen and its margin:
        those without a tile at the current size, either worth a fetch or worth a look in the disk cache."""
        visible, wider = self._grid.visible_rows()
        visible_items = self.items_at(visible)
        keeper.set_needed("visible", {item.ident for item in visible_items})
        if paused:
            return
        look_up = loader.tile_store() is not None

        def wanted(item: PictureItem) -> bool:
            if self._model.has_current_thumbnail(item):
                return False
            return self.usable(item, session, refresh_enabled) or (
                look_up and item.state is not PicState.FAILED
            )

        want_visible = [i for i in visible_items if wanted(i)]
        want_margin = [i for i in self.items_at(r for r in wider if r not in visible) if wanted(i)]
        fetchable = {
            i.ident for i in (*want_visible, *want_margin) if self.usable(i, session, refresh_enabled)
        }
        if not refresh_enabled and session is not None:
            # Links renewed on demand: ask for the whole screen's at once (one call), not as each fetch
            # starts (one call per wave of the loader's few running jobs). Pictures fetched before are
            # most likely still in the session's memory and need no link.
            stale = [
                i.ref
                for i in (*want_visible, *want_margin)
                if i.ident in fetchable and not i.thumb_bucket and session.usable_lease(i.ref) is None
            ]
            if stale:
                with contextlib.suppress(Exception):  # a closing session: nothing to renew
                    session.request_leases(stale)
        loader.request(
            [i.ref for i in want_visible],
            [i.ref for i in want_margin],
            self._grid.tile_size(),
            self._grid.devicePixelRatioF(),
            fetchable=fetchable,
        )

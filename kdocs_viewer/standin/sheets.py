"""The stand-in's sheets API: the sheet list and cells of a range, picture cells in the configured shape.

Routes like ``standin.oauth``: ``sheet_routes(state, api_preamble)`` over the app's shared check of an
ordinary API call (latency, quota, faults, token, file token).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kdocs_viewer.core.cells import camel_case
from kdocs_viewer.core.contract import CELLS_PATH, CODE_BAD_REQUEST, MAX_CELLS_PER_CALL, SHEETS_PATH
from kdocs_viewer.standin.config import CELL_SHAPES
from kdocs_viewer.standin.dataset import Cell
from kdocs_viewer.standin.replies import api_error, base_of, envelope

if TYPE_CHECKING:
    from kdocs_viewer.standin.app import StandinState

__all__ = ["sheet_routes"]


def sheet_routes(
    state: StandinState, api_preamble: Callable[[Request], Awaitable[Response | None]]
) -> list[Route]:
    """The sheets and cells routes over ``state``'s workbook."""
    workbook = state.workbook

    async def sheets(request: Request) -> Response:
        early = await api_preamble(request)
        if early is not None:
            return early
        info = [
            {
                "sheet_id": s.sheet_id,
                "sheet_idx": s.idx,
                "sheet_name": s.name,
                "is_visible": s.is_visible,
                "sheet_type": s.sheet_type,
                "row_from": 0,
                "row_to": s.row_to,
                "col_from": 0,
                "col_to": s.col_to,
            }
            for s in workbook.sheets
        ]
        return envelope({"sheets_info": info})

    async def cells(request: Request) -> Response:
        early = await api_preamble(request)
        if early is not None:
            return early
        try:
            sheet_idx = int(request.path_params["sheet_idx"])
            sheet = next(s for s in workbook.sheets if s.idx == sheet_idx)
        except (ValueError, StopIteration):
            return api_error(
                400,
                CODE_BAD_REQUEST,
                "InvalidSheetIdx",
                f"no sheet with sheet_idx {request.path_params['sheet_idx']!r}",
            )
        bounds: dict[str, int] = {}
        for name in ("row_from", "row_to", "col_from", "col_to"):
            raw = request.query_params.get(name)
            try:
                bounds[name] = int(raw) if raw is not None else -1
            except ValueError:
                bounds[name] = -1
            if bounds[name] < 0:
                return api_error(
                    400,
                    CODE_BAD_REQUEST,
                    "InvalidRange",
                    f"{name} must be a non-negative integer (0-based), got {raw!r}",
                )
        rows = bounds["row_to"] - bounds["row_from"] + 1
        cols = bounds["col_to"] - bounds["col_from"] + 1
        if rows <= 0 or cols <= 0:
            return api_error(
                400, CODE_BAD_REQUEST, "InvalidRange", "row_to/col_to must not be below row_from/col_from"
            )
        if rows * cols > MAX_CELLS_PER_CALL:
            return api_error(
                400,
                CODE_BAD_REQUEST,
                "RangeTooLarge",
                f"at most {MAX_CELLS_PER_CALL} cells per request, asked for {rows * cols}",
            )
        with_url = request.query_params.get("with_pic_url", "").lower() in ("true", "1", "yes")
        base = base_of(request)
        found = sheet.cells_in(bounds["row_from"], bounds["row_to"], bounds["col_from"], bounds["col_to"])
        return envelope({"cells": [_cell_json(c, state, base if with_url else None) for c in found]})

    return [
        Route(SHEETS_PATH, sheets, methods=["GET"]),
        Route(CELLS_PATH, cells, methods=["GET"]),
    ]


def _cell_json(cell: Cell, state: StandinState, base: str | None) -> dict[str, Any]:
    shape = state.config.cell_shape
    picture = cell.picture
    if shape == "mixed":
        shape = CELL_SHAPES[picture.index % 3] if picture is not None else "flat"
    out: dict[str, Any] = {
        "row_from": cell.row_from,
        "row_to": cell.row_to,
        "col_from": cell.col_from,
        "col_to": cell.col_to,
        "cell_text": cell.text,
        "original_cell_value": cell.value,
        "num_format": cell.num_format,
    }
    if shape == "flat":
        if picture is not None:
            out["pic_key"] = picture.pic_key
            out["tag"] = picture.tag
    else:
        local = picture is not None and picture.tag == "local"
        out["is_cell_pic"] = picture is not None
        out["pic_data"] = picture.pic_key if picture is not None and not local else ""
        out["sha1"] = picture.pic_key if picture is not None and local else ""
        out["tag"] = picture.tag if picture is not None else ""
        if picture is not None:
            image_id = "ID_" + hashlib.blake2b(picture.pic_key.encode(), digest_size=16).hexdigest().upper()
            out["cell_text"] = out["original_cell_value"] = f'=DISPIMG("{image_id}",1)'
    if picture is not None and base is not None:
        out["pic_url"] = state.issue_url(base, picture)
    if shape == "dispimg-camel":
        out = {camel_case(name): value for name, value in out.items()}
    return out

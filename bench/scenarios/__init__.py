"""One module per scenario; each has ``run(ctx) -> dict[str, Metric]``."""

from __future__ import annotations

import inspect
from pathlib import Path

from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.piclist import parse_pic_list


def load_refs(pic_list: Path, n: int) -> list[PicRef]:
    """The first ``n`` pictures of the workbook, as the product's own parser reads them."""
    refs = parse_pic_list(pic_list.read_text(encoding="utf-8")).pics
    if len(refs) < n:
        raise RuntimeError(f"the workbook has {len(refs)} pictures, the scenario needs {n}")
    return refs[:n]


def default_concurrency() -> int:
    """The client's default number of API calls in flight (what the app and the GUI use unless told)."""
    from kdocs_viewer.core.api import KDocsClient  # the network stack: see bench.gui.BrowserRun

    return int(inspect.signature(KDocsClient.__init__).parameters["concurrency"].default)

"""Configuration of the stand-in server (shared by :class:`StandinServer` and the CLI)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from kdocs_viewer.core.contract import ACCESS_TOKEN_LIFETIME, AUTH_CODE_LIFETIME, QUOTA_TEST_APP

# How the cells API shows a picture cell (kdocs-api.md §2 and §2b): "flat" puts pic_key and tag on the cell;
# "dispimg" sends cell_text =DISPIMG("ID_…",1), is_cell_pic, pic_data (online) or sha1 (local) and tag, on
# every cell in snake_case; "dispimg-camel" the same in camelCase (cellText, isCellPic, picData, rowFrom…);
# "mixed" cycles picture cells through the three, text cells staying flat.
CELL_SHAPES = ("flat", "dispimg", "dispimg-camel", "mixed")


@dataclass
class StandinConfig:
    """What the stand-in serves and how it misbehaves.

    ``pictures`` is the number of pictures of the workbook. With a ``dataset`` folder the files cycle when
    ``pictures`` exceeds their number (each copy gets its own pic_key), the first ``pictures`` files are
    used when it is smaller, and ``pictures=0`` means exactly one picture per file.
    ``time_scale`` multiplies every URL lifetime (0.005 turns 300 s into 1.5 s for tests).
    ``quota`` is the number of API calls allowed per day; ``latency_ms`` delays API calls and image GETs;
    ``bandwidth_mbps`` (0 = unlimited) is one line shared by every picture body the server sends, on top
    of the latency (``standin.link``); picture URLs answer ``Range`` requests (206) unless ``honour_range``
    is off, when they answer every GET whole with 200, as some servers do;
    ``fail_rate`` is the fraction of API calls that fail at random (seeded by ``seed``);
    ``image_fail_rate`` the fraction of picture GETs that do (5xx, reset, truncated body, or an HTML login
    page with 200), from a random stream of their own (also seeded by ``seed``).
    ``disk_cache`` keeps generated big images under ``$XDG_CACHE_HOME/kdocs-viewer/standin`` across runs;
    ``access_log`` logs ``METHOD path status`` lines (never query strings) on the
    ``kdocs_viewer.standin.access`` logger. ``cell_shape`` is one of ``CELL_SHAPES``.
    Signing in (see ``standin.oauth``): the app ``app_id``/``app_key``; access tokens live ``token_lifetime``
    seconds × ``time_scale``, codes ``code_lifetime`` seconds; ``auto_consent`` skips the consent page;
    the file lists hold ``workbooks`` spreadsheets, the demo workbook (``file_token``) among them.
    """

    host: str = "127.0.0.1"
    port: int = 0
    token: str = field(default="demo-token", repr=False)
    pictures: int = 240
    dataset: Path | None = None
    time_scale: float = 1.0
    quota: int = QUOTA_TEST_APP
    latency_ms: float = 0.0
    bandwidth_mbps: float = 0.0
    honour_range: bool = True
    fail_rate: float = 0.0
    image_fail_rate: float = 0.0
    seed: int = 1
    file_token: str = "demo-workbook"
    disk_cache: bool = False
    access_log: bool = False
    memory_budget: int = 256 * 1024 * 1024
    app_id: str = "demo-app"
    app_key: str = field(default="demo-key", repr=False)
    token_lifetime: float = ACCESS_TOKEN_LIFETIME
    code_lifetime: float = AUTH_CODE_LIFETIME
    auto_consent: bool = False
    workbooks: int = 8
    cell_shape: str = "flat"

    def __post_init__(self) -> None:
        if self.dataset is not None and not isinstance(self.dataset, Path):
            self.dataset = Path(self.dataset)
        if self.pictures < 0:
            raise ValueError("pictures must be >= 0")
        if self.time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        if not 0.0 <= self.fail_rate <= 1.0:
            raise ValueError("fail_rate must be between 0 and 1")
        if not 0.0 <= self.image_fail_rate <= 1.0:
            raise ValueError("image_fail_rate must be between 0 and 1")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")
        if not math.isfinite(self.bandwidth_mbps) or self.bandwidth_mbps < 0:
            raise ValueError("bandwidth_mbps must be >= 0 (0 = unlimited)")
        if self.quota < 0:
            raise ValueError("quota must be >= 0")
        if not self.file_token:
            raise ValueError("file_token must not be empty")
        if not self.app_id or not self.app_key:
            raise ValueError("app_id and app_key must not be empty")
        if self.token_lifetime <= 0 or self.code_lifetime <= 0:
            raise ValueError("token_lifetime and code_lifetime must be > 0")
        if self.workbooks < 1:
            raise ValueError("workbooks must be >= 1 (the demo workbook is one of them)")
        if self.cell_shape not in CELL_SHAPES:
            raise ValueError(f"cell_shape must be one of {', '.join(CELL_SHAPES)}")

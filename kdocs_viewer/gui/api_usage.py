"""Today's API calls against the current server, and its daily limit when that is known.

A test app may make 10,000 calls a day, a published one 10,000,000, and a stand-in whatever it was started
with: the viewer cannot know which, so it shows a limit only when the server stated one (``RateLimit-Policy``,
see ``core.quota``) or the settings file holds one for that server. Calls are counted per server and per
quota day (UTC+8, ``core.quota.quota_day``), across runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

from kdocs_viewer.core.quota import DailyCalls, quota_day
from kdocs_viewer.gui import theme
from kdocs_viewer.gui.eliding_label import ElidingLabel
from kdocs_viewer.gui.settings import AppSettings

if TYPE_CHECKING:
    from kdocs_viewer.core.api import KDocsClient

__all__ = ["ApiCallsLabel", "ApiUsage"]

WARN_FRACTION = 0.8  # the label turns red from this share of a known limit


class ApiUsage:
    """The call count and limit of one server; ``remember=False`` (the demo's throw-away server) keeps
    nothing in the settings."""

    def __init__(self, settings: AppSettings, base_url: str, *, remember: bool = True) -> None:
        self._settings = settings
        self._base_url = base_url
        self._remember = remember
        day = quota_day()
        earlier = settings.calls_earlier_today(base_url, day) if remember else 0
        self._daily = DailyCalls(day=day, earlier=earlier)
        self._limit = settings.daily_limit(base_url) if remember else None

    def update(self, client: KDocsClient | None) -> tuple[int, int | None]:
        """(calls today, daily limit or None), taking in what ``client`` has done and heard so far."""
        made = client.calls_made if client is not None else 0
        stated = client.daily_limit if client is not None else None
        if stated is not None and stated != self._limit:
            self._limit = stated
            if self._remember:
                self._settings.record_daily_limit(self._base_url, stated)
        calls = self._daily.count(made)
        # Calls the server refused once its limit was reached were sent but not charged: never show more.
        return (min(calls, self._limit) if self._limit is not None else calls), self._limit

    def save(self, client: KDocsClient | None) -> None:
        """Record today's count for the next run (nothing when ``remember`` is off or no call was made)."""
        if not self._remember or client is None:
            return
        calls, _ = self.update(client)
        self._settings.record_calls_today(self._base_url, calls, self._daily.day)


class ApiCallsLabel(ElidingLabel):
    """Shows "API calls today: N", or "N / limit" with a known limit (red from ``WARN_FRACTION`` of it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        self.setObjectName("apiCallsLabel")

    def show_usage(self, calls: int, limit: int | None) -> None:
        if limit is None:
            self.setText(self.tr("API calls today: %1").replace("%1", f"{calls:,}"))
            self.setToolTip(self.tr("The server has not said how many calls a day it allows."))
            self.setStyleSheet("")
            return
        self.setText(
            self.tr("API calls today: %1 / %2").replace("%1", f"{calls:,}").replace("%2", f"{limit:,}")
        )
        self.setToolTip(self.tr("The server allows %1 API calls a day.").replace("%1", f"{limit:,}"))
        self.setStyleSheet(theme.error_text_style(self) if calls >= WARN_FRACTION * limit else "")

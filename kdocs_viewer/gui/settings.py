"""The viewer's remembered preferences, declared as data over ``QSettings``.

Each ``Setting`` names its key, default and type once; ``AppSettings`` converts what the INI file gives back
(INI stores everything as text) and refuses any key that looks like a secret, so the access token can never
end up in the settings file, whatever a caller passes. One ``SCHEMA_VERSION`` lets a later release migrate.

The settings file is an INI file in the user's config folder (``~/.config/kdocs-viewer/kdocs-viewer.ini`` on
Linux). ``KDOCS_VIEWER_SETTINGS`` (a file path) points it elsewhere: tests and the screenshot script use it.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from PySide6.QtCore import QByteArray, QSettings

from kdocs_viewer.core.contract import DEFAULT_CALLBACK_PORT
from kdocs_viewer.core.models import DEFAULT_BASE_URL
from kdocs_viewer.core.quota import quota_day, server_key
from kdocs_viewer.core.redact import redact_url

__all__ = [
    "ALL_SETTINGS",
    "APP_NAME",
    "ORG_DOMAIN",
    "ORG_NAME",
    "SCHEMA_VERSION",
    "SETTINGS_ENV",
    "AppSettings",
    "ServerQuota",
    "Setting",
    "open_qsettings",
]

T = TypeVar("T")

APP_NAME = "kdocs-viewer"
ORG_NAME = "kdocs-viewer"
ORG_DOMAIN = "kdocs-viewer.github.io"
SETTINGS_ENV = "KDOCS_VIEWER_SETTINGS"
SCHEMA_VERSION = 1
_VERSION_KEY = "meta/schema_version"
# Words that must never appear in a key: a guard against someone "just remembering" the token.
_FORBIDDEN_WORDS = ("token", "secret", "password", "app_key", "appkey")


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One remembered value: where it lives, what it is when absent, and its Python type."""

    key: str
    default: T
    kind: type


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _to_bytes(value: Any) -> QByteArray:
    if isinstance(value, QByteArray):
        return value
    if isinstance(value, bytes | bytearray):
        return QByteArray(bytes(value))
    return QByteArray()


_CONVERTERS: dict[type, Callable[[Any], Any]] = {
    bool: _to_bool,
    int: int,
    str: str,
    QByteArray: _to_bytes,
}


GEOMETRY: Setting[QByteArray] = Setting("window/geometry", QByteArray(), QByteArray)
WINDOW_STATE: Setting[QByteArray] = Setting("window/state", QByteArray(), QByteArray)
SPLITTER: Setting[QByteArray] = Setting("window/splitter", QByteArray(), QByteArray)
LAST_FOLDER: Setting[str] = Setting("save/last_folder", "", str)
TEMPLATE: Setting[str] = Setting("save/template", "", str)  # "" = core's default template
# A new key, so the old default ("uniquify", stored by every save) does not outlive the new one.
CONFLICT_POLICY: Setting[str] = Setting("save/if_exists", "skip-identical", str)
LAST_OPEN_FOLDER: Setting[str] = Setting("input/last_open_folder", "", str)
TILE_SIZE: Setting[int] = Setting("view/tile_size", 0, int)  # 0 = the grid's own default
REFRESH: Setting[bool] = Setting("view/refresh_enabled", True, bool)
THUMBNAIL_CACHE: Setting[bool] = Setting("view/thumbnail_disk_cache", True, bool)  # tiles kept on disk
BASE_URL: Setting[str] = Setting("api/base_url", DEFAULT_BASE_URL, str)
LANGUAGE: Setting[str] = Setting("ui/language", "", str)  # "" = follow the system locale
# Signing in: the APPID is no secret (the APPKEY and the tokens live in the keyring only); the port is the one
# registered for the app's callback.
SIGN_IN_APP_ID: Setting[str] = Setting("signin/app_id", "", str)
SIGN_IN_PORT: Setting[int] = Setting("signin/callback_port", DEFAULT_CALLBACK_PORT, int)
PIC_LIST_PANEL: Setting[bool] = Setting("view/pic_list_panel", False, bool)  # the side panel is shown
# The workbook last opened: its name and *file* token (which names a document, not the user), and the API
# server it is on (core.quota.server_key), so another server's workbook is never reopened.
LAST_WORKBOOK_NAME: Setting[str] = Setting("workbook/last_name", "", str)
LAST_WORKBOOK_FILE: Setting[str] = Setting("workbook/last_file_id", "", str)
LAST_WORKBOOK_SERVER: Setting[str] = Setting("workbook/last_server", "", str)
# One shared counter of earlier releases: it mixed servers and counted by the local date.
_RETIRED_KEYS = ("quota/day", "quota/calls", "save/conflict_policy")

ALL_SETTINGS: tuple[Setting[Any], ...] = (
    GEOMETRY,
    WINDOW_STATE,
    SPLITTER,
    LAST_FOLDER,
    TEMPLATE,
    CONFLICT_POLICY,
    LAST_OPEN_FOLDER,
    TILE_SIZE,
    REFRESH,
    THUMBNAIL_CACHE,
    BASE_URL,
    LANGUAGE,
    SIGN_IN_APP_ID,
    SIGN_IN_PORT,
    PIC_LIST_PANEL,
    LAST_WORKBOOK_NAME,
    LAST_WORKBOOK_FILE,
    LAST_WORKBOOK_SERVER,
)


def _check_key(key: str) -> None:
    lowered = key.lower()
    if any(word in lowered for word in _FORBIDDEN_WORDS):
        raise ValueError(f"refusing to keep {key!r} in the settings file: secrets belong in the keyring")


for _setting in ALL_SETTINGS:
    _check_key(_setting.key)


@dataclass(frozen=True)
class ServerQuota:
    """The daily API-call counter of one server: ``quota/<server key>/…``.

    The key is ``core.quota.server_key`` (a hash), never the URL: a URL can carry a query, and with it a
    token. ``server`` repeats the redacted URL as a value, so a person reading the file knows which is which
    and can set ``limit`` by hand (0 = not known).
    """

    server: Setting[str]
    day: Setting[str]  # ISO quota day (core.quota.quota_day) that ``calls`` belongs to
    calls: Setting[int]  # API calls of earlier runs on ``day``
    limit: Setting[int]  # the daily limit the server stated (or a person set); 0 = not known

    @classmethod
    def of(cls, base_url: str) -> ServerQuota:
        group = f"quota/{server_key(base_url)}"
        quota = cls(
            Setting(f"{group}/server", "", str),
            Setting(f"{group}/day", "", str),
            Setting(f"{group}/calls", 0, int),
            Setting(f"{group}/limit", 0, int),
        )
        for setting in (quota.server, quota.day, quota.calls, quota.limit):
            _check_key(setting.key)
        return quota


def open_qsettings() -> QSettings:
    """The application's QSettings: always INI, at ``$KDOCS_VIEWER_SETTINGS`` when that is set."""
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORG_NAME, APP_NAME)


class AppSettings:
    """Typed access to the declared settings; writes the schema version on first use."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self._q = qsettings if qsettings is not None else open_qsettings()
        stored = self._q.value(_VERSION_KEY)
        if stored is None:
            self._q.setValue(_VERSION_KEY, SCHEMA_VERSION)
        for key in _RETIRED_KEYS:
            if self._q.contains(key):
                self._q.remove(key)

    @property
    def qsettings(self) -> QSettings:
        return self._q

    def file_name(self) -> str:
        return self._q.fileName()

    def get(self, setting: Setting[T]) -> T:
        """The stored value converted to the setting's type, or its default when absent or unreadable."""
        value = self._q.value(setting.key)
        if value is None:
            return setting.default
        try:
            return cast(T, _CONVERTERS[setting.kind](value))
        except (TypeError, ValueError):
            return setting.default

    def set(self, setting: Setting[T], value: T) -> None:
        _check_key(setting.key)
        if not isinstance(value, setting.kind):
            raise TypeError(f"{setting.key} expects {setting.kind.__name__}, not {type(value).__name__}")
        self._q.setValue(setting.key, value)

    def reset(self, setting: Setting[Any]) -> None:
        self._q.remove(setting.key)

    def sync(self) -> None:
        self._q.sync()

    # -- the daily API-call counter, per server -----------------------------------------------------------

    def calls_earlier_today(self, base_url: str, today: datetime.date | None = None) -> int:
        """API calls that earlier runs made against ``base_url`` on this quota day (0 on a new day)."""
        quota = ServerQuota.of(base_url)
        day = (today or quota_day()).isoformat()
        return max(0, self.get(quota.calls)) if self.get(quota.day) == day else 0

    def record_calls_today(self, base_url: str, total: int, today: datetime.date | None = None) -> None:
        """Remember ``total`` (earlier runs included) as this quota day's count for ``base_url``."""
        quota = ServerQuota.of(base_url)
        self.set(quota.server, redact_url(base_url))
        self.set(quota.day, (today or quota_day()).isoformat())
        self.set(quota.calls, int(total))

    def daily_limit(self, base_url: str) -> int | None:
        """The daily call limit known for ``base_url``, or None."""
        limit = self.get(ServerQuota.of(base_url).limit)
        return limit if limit > 0 else None

    def record_daily_limit(self, base_url: str, limit: int) -> None:
        quota = ServerQuota.of(base_url)
        self.set(quota.server, redact_url(base_url))
        self.set(quota.limit, int(limit))

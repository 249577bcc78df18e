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

from kdocs_viewer.core.models import DEFAULT_BASE_URL

__all__ = [
    "ALL_SETTINGS",
    "APP_NAME",
    "ORG_DOMAIN",
    "ORG_NAME",
    "SCHEMA_VERSION",
    "SETTINGS_ENV",
    "AppSettings",
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
_FORBIDDEN_WORDS = ("token", "secret", "password")


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
CONFLICT_POLICY: Setting[str] = Setting("save/conflict_policy", "uniquify", str)
LAST_OPEN_FOLDER: Setting[str] = Setting("input/last_open_folder", "", str)
TILE_SIZE: Setting[int] = Setting("view/tile_size", 0, int)  # 0 = the grid's own default
REFRESH: Setting[bool] = Setting("view/refresh_enabled", True, bool)
BASE_URL: Setting[str] = Setting("api/base_url", DEFAULT_BASE_URL, str)
LANGUAGE: Setting[str] = Setting("ui/language", "", str)  # "" = follow the system locale
QUOTA_DAY: Setting[str] = Setting("quota/day", "", str)  # ISO date the counter below belongs to
QUOTA_CALLS: Setting[int] = Setting("quota/calls", 0, int)  # API calls of earlier runs on QUOTA_DAY

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
    BASE_URL,
    LANGUAGE,
    QUOTA_DAY,
    QUOTA_CALLS,
)


def _check_key(key: str) -> None:
    lowered = key.lower()
    if any(word in lowered for word in _FORBIDDEN_WORDS):
        raise ValueError(f"refusing to keep {key!r} in the settings file: secrets belong in the keyring")


for _setting in ALL_SETTINGS:
    _check_key(_setting.key)


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

    # -- the daily API-call counter ------------------------------------------------------------------------

    def calls_earlier_today(self, today: datetime.date | None = None) -> int:
        """API calls recorded by earlier runs today (0 on a new day)."""
        day = (today or datetime.date.today()).isoformat()
        return self.get(QUOTA_CALLS) if self.get(QUOTA_DAY) == day else 0

    def record_calls_today(self, total: int, today: datetime.date | None = None) -> None:
        """Remember ``total`` as today's count (earlier runs included)."""
        self.set(QUOTA_DAY, (today or datetime.date.today()).isoformat())
        self.set(QUOTA_CALLS, int(total))

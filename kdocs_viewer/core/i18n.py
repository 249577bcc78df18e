"""A pluggable translation hook for the messages the Qt-free core builds for people.

The core must not import Qt, yet its texts (pic-list problems, API errors, tile failure reasons) reach the
user. So the core calls ``translate(context, text)`` with literal English text — the call shape
``pyside6-lupdate`` extracts — and fills named ``{placeholders}`` *after* translation, so a translation may
reorder them. The GUI installs ``QCoreApplication.translate`` here when a non-English language is active;
the CLI installs nothing and stays English.

Thread-safe by construction: the translator is one module global, replaced whole and only ever read.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Translator", "set_translator", "translate"]

Translator = Callable[[str, str], str]

_translator: Translator | None = None


def set_translator(fn: Translator | None) -> None:
    """Use ``fn(context, text)`` for every later ``translate`` call; None restores plain English."""
    global _translator
    _translator = fn


def translate(context: str, text: str) -> str:
    """``text`` in the user's language when a translator is installed, else ``text`` itself."""
    fn = _translator
    return text if fn is None else fn(context, text)

"""Which language the viewer speaks, and installing the translators for it.

Two translators per language, as Picard does: ours (``kdocs_viewer/translations/kdocs_viewer_<lang>.qm``,
shipped inside the package so ``pip install .`` needs no Qt tools) and Qt's own ``qtbase_<lang>.qm`` from the
Qt installation, so standard dialogs (file chooser, message box buttons) speak the same language.

Precedence: ``--lang`` on the command line (and it is remembered), then the remembered choice, then the
system locale. A language change from the menu takes effect at the next start. Dates and numbers that Qt
formats (``QLocale()``) follow the same language: the system's regional format when it is in that language,
else the language's usual one, so a Chinese interface never shows English month names.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QLibraryInfo, QLocale, QTranslator

from kdocs_viewer.core import i18n as core_i18n

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGE_NAMES",
    "SUPPORTED_LANGUAGES",
    "install_translators",
    "normalise_language",
    "our_translation_file",
    "pick_language",
    "system_language",
    "tag_label",
    "translate_in",
]

log = logging.getLogger(__name__)

# Qt 6's own file dialog says "&Look in:" and "Files of &type:", but qtbase_zh_CN.qm (as shipped with Qt 6)
# still has them as Qt 5 spelled them, without the mnemonic, so they stayed English although Qt's translator
# is installed. Our catalogue, installed after Qt's and so asked first, fills that gap (a Qt catalogue bug).
QT_CATALOGUE_GAPS = (
    QT_TRANSLATE_NOOP("QFileDialog", "&Look in:"),
    QT_TRANSLATE_NOOP("QFileDialog", "Files of &type:"),
)

DEFAULT_LANGUAGE = "en"
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "zh_CN")
# Each language named in itself: a user who cannot read the current language still finds their own.
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "zh_CN": "简体中文"}


def normalise_language(value: str | None) -> str | None:
    """``"zh-cn"``, ``"zh_Hans_CN"``, ``"zh"`` → ``"zh_CN"``; ``"en_GB"`` → ``"en"``; unknown → None."""
    if not value:
        return None
    text = value.strip().replace("-", "_").lower()
    if text.startswith("zh"):
        # Only Simplified Chinese is translated; Traditional locales (TW/HK/Hant) fall back to English.
        return None if any(part in text for part in ("tw", "hk", "mo", "hant")) else "zh_CN"
    if text.startswith("en") or text in ("c", "posix"):
        return "en"
    return None


def system_language() -> str:
    """The supported language closest to the system locale (English when none fits)."""
    locale = QLocale.system()
    for name in [locale.name(), *locale.uiLanguages()]:
        lang = normalise_language(name)
        if lang is not None:
            return lang
    return DEFAULT_LANGUAGE


def pick_language(cli: str | None, remembered: str | None) -> str:
    """``--lang`` wins, then the remembered choice, then the system locale."""
    return normalise_language(cli) or normalise_language(remembered) or system_language()


def our_translation_file(lang: str) -> Path:
    """Where our compiled catalogue for ``lang`` lives inside the installed package."""
    base = resources.files("kdocs_viewer") / "translations" / f"kdocs_viewer_{lang}.qm"
    return Path(str(base))


def _qt_translate(context: str, text: str) -> str:
    """The core's translator: Qt's installed catalogues (thread-safe, so core worker threads may call it)."""
    return QCoreApplication.translate(context, text)


def _use_locale_of(lang: str) -> None:
    system = QLocale.system()
    if system.language() != QLocale.Language.C and normalise_language(system.name()) == lang:
        QLocale.setDefault(system)
    else:
        QLocale.setDefault(QLocale("zh_CN" if lang == "zh_CN" else "en_US"))


def install_translators(app: QCoreApplication, lang: str) -> list[QTranslator]:
    """Install ours and Qt's translators for ``lang`` on ``app``; English needs none.

    The Qt-free core's messages are plugged into the same catalogues (``core.i18n.set_translator``).
    Returns the installed translators; the caller keeps them alive (Qt does not own them). A missing
    catalogue is logged, never fatal: the interface then simply stays English.
    """
    _use_locale_of(lang)
    installed: list[QTranslator] = []
    if lang == DEFAULT_LANGUAGE:
        core_i18n.set_translator(None)
        return installed
    core_i18n.set_translator(_qt_translate)
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    candidates = [
        (f"qtbase_{lang}", qt_dir),
        (f"kdocs_viewer_{lang}", str(our_translation_file(lang).parent)),
    ]
    for name, folder in candidates:
        translator = QTranslator(app)
        if translator.load(name, folder):
            app.installTranslator(translator)
            installed.append(translator)
        else:
            log.warning("no %s translation %s in %s", lang, name, folder)
    return installed


def translate_in(lang: str, context: str, text: str) -> str:
    """``text`` in ``lang`` from our catalogue, whatever language is installed now (English when ``lang`` is
    English or has no translation of it): what a language change says is said in the chosen language."""
    if lang == DEFAULT_LANGUAGE:
        return text
    translator = QTranslator()
    if not translator.load(str(our_translation_file(lang))):
        return text
    return translator.translate(context, text) or text


def tag_label(tag: str) -> str:
    """A picture tag as the user reads it (chips, the kind filter, details); an unknown tag as it is."""
    labels = {
        "attachment": QCoreApplication.translate("Tags", "attachment"),
        "local": QCoreApplication.translate("Tags", "local"),
        "cloud": QCoreApplication.translate("Tags", "cloud"),
    }
    return labels.get(tag, tag)

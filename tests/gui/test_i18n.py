"""Translations: language choice, our catalogue and Qt's both installed, Chinese text that really renders."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, Qt, QTranslator
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QApplication, QComboBox, QDialogButtonBox, QFileDialog, QLabel, QMessageBox
from pytestqt.qtbot import QtBot

from kdocs_viewer.core.i18n import set_translator
from kdocs_viewer.gui.i18n import (
    LANGUAGE_NAMES,
    install_translators,
    normalise_language,
    our_translation_file,
    pick_language,
    tag_label,
    translate_in,
)
from kdocs_viewer.gui.main_window import MainWindow
from kdocs_viewer.gui.picture_model import PictureModel
from tests.gui.shell_helpers import DemoWindow, Ui, child

pytest_plugins = ["tests.gui.shell_support"]  # keyring fixtures come from the root conftest

ROOT = Path(__file__).resolve().parents[2]
TS_FILE = ROOT / "resources" / "translations" / "kdocs_viewer_zh_CN.ts"


@pytest.fixture
def chinese(qapp: QApplication) -> Iterator[list[QTranslator]]:
    installed = install_translators(qapp, "zh_CN")
    yield installed
    for translator in installed:
        qapp.removeTranslator(translator)
    set_translator(None)  # the core's messages go back to English for later tests
    QLocale.setDefault(QLocale.system())  # and so do the dates


def test_bad_pic_list_in_chinese_jumps_to_the_line(chinese: list[QTranslator], make_window: Any) -> None:
    window = make_window()
    ui = Ui(window)
    ui.file_token.setText("demo-workbook")
    ui.editor.setPlainText("abc123 attachment\ndef456\n")
    assert window.input.load() is False
    kind, text = ui.message()
    assert kind == "error" and "第 2 行" in text
    assert ui.current_line() == 2  # found from the translated "where", not only from "line 2"


def test_language_precedence() -> None:
    assert normalise_language("zh-cn") == "zh_CN"
    assert normalise_language("zh_Hans_CN") == "zh_CN"
    assert normalise_language("zh_TW") is None  # Traditional Chinese is not translated
    assert normalise_language("en_GB") == "en"
    assert normalise_language("fr_FR") is None
    assert pick_language("zh_CN", "en") == "zh_CN"  # --lang wins
    assert pick_language(None, "zh_CN") == "zh_CN"  # then the remembered choice
    assert pick_language(None, None) in LANGUAGE_NAMES  # then the system locale


def test_catalogue_ships_inside_the_package() -> None:
    qm = our_translation_file("zh_CN")
    assert qm.is_file() and qm.stat().st_size > 1000
    assert qm.parent == ROOT / "kdocs_viewer" / "translations"


def test_every_string_is_translated_in_the_ts_file() -> None:
    root = ET.parse(TS_FILE).getroot()
    unfinished = [
        m.findtext("source")
        for m in root.iter("message")
        if (t := m.find("translation")) is None or t.get("type") in ("unfinished", "vanished", "obsolete")
    ]
    assert not unfinished, f"run scripts/update_translations.py: {unfinished[:5]}"


def test_the_ts_file_covers_the_current_code() -> None:
    """lupdate over the GUI code finds nothing the dictionary lacks (run the script after adding strings)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "update_translations.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_zh_cn_window_shows_chinese(
    chinese: list[QTranslator], make_window: Callable[..., MainWindow]
) -> None:
    assert len(chinese) == 2  # ours and Qt's qtbase
    window = make_window(language="zh_CN")
    ui = Ui(window)
    assert ui.load_button.text() == "加载"
    assert ui.find_button.text() == "查找工作簿中的图片"
    assert ui.token_status.text() == "令牌：无"
    assert window.language_actions["zh_CN"].isChecked()
    assert "今日 API 调用" in ui.api_calls.text()
    assert QLocale().language() is QLocale.Language.Chinese  # dates in the picker are written the Chinese way


def test_qt_standard_buttons_are_chinese_too(chinese: list[QTranslator], qtbot: QtBot) -> None:
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
    qtbot.addWidget(box)
    cancel = box.button(QDialogButtonBox.StandardButton.Cancel)
    assert cancel is not None and "取消" in cancel.text()


def test_qt_file_dialog_is_all_chinese(chinese: list[QTranslator], qtbot: QtBot) -> None:
    """Qt's own (non-native) file dialog: qtbase_zh_CN.qm lacks "&Look in:" and "Files of &type:" (a Qt
    catalogue bug); ours fills the gap."""
    dialog = QFileDialog(None, "x")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    qtbot.addWidget(dialog)
    texts = [label.text() for label in dialog.findChildren(QLabel) if label.text()]
    assert "查找范围(&L)：" in texts and "文件类型(&T)：" in texts
    assert not [t for t in texts if t.isascii() and any(c.isalpha() for c in t)], texts


def test_picture_kinds_and_the_key_are_chinese(
    chinese: list[QTranslator], demo_window: Callable[..., DemoWindow]
) -> None:
    window = demo_window(pictures=6).window
    combo = child(window.browser, QComboBox, "tagFilter")
    kinds = {combo.itemData(i): combo.itemText(i) for i in range(1, combo.count())}
    assert kinds and set(kinds) <= {"attachment", "local", "cloud"}
    assert {tag: tag_label(tag) for tag in kinds} == kinds
    assert set(kinds.values()) <= {"附件", "本地", "云端"}  # the chips paint the same tag_label
    assert tag_label("custom-tag") == "custom-tag"
    model = window.browser.findChild(PictureModel)
    assert model is not None
    tooltip = str(model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole))
    assert "图片键：" in tooltip and kinds[model.item(0).ref.tag] in tooltip


def test_the_language_change_note_speaks_the_chosen_language(
    make_window: Callable[..., MainWindow], monkeypatch: pytest.MonkeyPatch
) -> None:
    told: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "information", staticmethod(lambda _p, _t, text, *a: told.append(text) or 0)
    )
    window = make_window(language="en")
    window.language_actions["zh_CN"].trigger()
    assert told == [
        "语言将在下次启动 kdocs-viewer 时生效。\nThe language changes the next time kdocs-viewer starts."
    ]
    assert translate_in("en", "MainWindow", "Load") == "Load"


def test_english_installs_nothing(qapp: QApplication) -> None:
    assert install_translators(qapp, "en") == []
    assert QCoreApplication.translate("MainWindow", "Load") == "Load"


def _render(text: str) -> QImage:
    image = QImage(64, 40, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setFont(QFont(QApplication.font().family(), 20))
    painter.setPen(QColor("black"))
    painter.drawText(4, 30, text)
    painter.end()
    return image


def test_chinese_glyphs_render(qapp: QApplication) -> None:
    """Two different characters draw differently: no missing-glyph boxes (the CJK font is installed)."""
    first, second = _render("加"), _render("载")
    assert first != second
    assert first != _render("")

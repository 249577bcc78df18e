"""Under a dark palette our own colours still read: each widget is rendered and the contrast between the text
and the background actually painted is measured (WCAG ratio ≥ 4.5)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from kdocs_viewer.core.models import PicRef
from kdocs_viewer.gui import theme
from kdocs_viewer.gui.api_usage import ApiCallsLabel
from kdocs_viewer.gui.message_area import MessageArea
from kdocs_viewer.gui.pic_list_editor import PicListEditor
from kdocs_viewer.gui.save_dialog import SaveDialog
from kdocs_viewer.gui.signin_dialog import SignInDialog
from kdocs_viewer.gui.token_dialog import TokenDialog


@pytest.fixture(params=["dark", "light"])
def palette(request: pytest.FixtureRequest) -> Iterator[QPalette]:
    """The whole application in a dark (or the default light) palette, as a dark desktop theme gives it."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    before = QPalette(app.palette())
    chosen = theme.dark_palette() if request.param == "dark" else QPalette(before)
    app.setPalette(chosen)
    try:
        yield chosen
    finally:
        app.setPalette(before)


def rendered_contrast(image: QImage, area: QRect | None = None) -> tuple[float, QColor]:
    """(contrast of the text, background) in ``area``: the background is the most common colour, the text
    the colour furthest from it (glyph stems are painted at full colour)."""
    area = area or image.rect()
    counts: Counter[int] = Counter()
    for y in range(area.top(), area.bottom() + 1):
        for x in range(area.left(), area.right() + 1):
            counts[image.pixel(x, y)] += 1
    background = QColor.fromRgb(counts.most_common(1)[0][0])
    best = max(theme.contrast_ratio(QColor.fromRgb(rgb), background) for rgb in counts)
    assert best > 1.5, "no text was painted in the area"
    return best, background


def check(image: QImage, palette: QPalette, area: QRect | None = None) -> None:
    ratio, background = rendered_contrast(image, area)
    assert ratio >= theme.MIN_CONTRAST, f"contrast {ratio:.2f} on {background.name()}"
    # A dark theme gets dark banners and fields, not light islands.
    dark_background = theme.contrast_ratio(background, QColor("black")) < 5
    assert theme.is_dark(palette) == dark_background, background.name()


def test_message_banners(qtbot: QtBot, palette: QPalette) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    area = MessageArea(host)
    QVBoxLayout(host).addWidget(area)
    host.resize(420, 80)
    host.show()
    for kind in ("info", "warning", "error"):
        area.show_message(kind, "The pic list has an error on line 3: IIll unknown tag")
        qtbot.waitUntil(area.isVisible)
        check(area.grab().toImage(), palette, area.contentsRect())


def test_reason_notes_of_the_token_and_sign_in_dialogs(qtbot: QtBot, palette: QPalette) -> None:
    token = TokenDialog(reason="The server refused the token: IIll expired")
    sign_in = SignInDialog()
    sign_in.set_reason("Your sign-in expired: IIll please sign in again")
    for dialog in (token, sign_in):
        qtbot.addWidget(dialog)
        dialog.show()
        label = dialog.reason_label
        qtbot.waitUntil(label.isVisible)
        check(label.grab().toImage(), palette, label.contentsRect())


def test_the_error_line_of_the_pic_list(qtbot: QtBot, palette: QPalette) -> None:
    editor = PicListEditor()
    qtbot.addWidget(editor)
    editor.resize(420, 200)
    editor.setPlainText("k1 local\nIIll WWMM unknown\nk3 cloud\n")
    editor.show()
    qtbot.waitExposed(editor)
    editor.jump_to_line(2)
    line = editor.cursorRect()
    image = editor.viewport().grab().toImage()
    row = QRect(0, line.top() + 1, image.width(), max(1, line.height() - 2))
    check(image, palette, row)


def test_an_invalid_template_and_a_spent_quota(qtbot: QtBot, palette: QPalette) -> None:
    dialog = SaveDialog([PicRef("k", "local", caption="Red cup", cell="S!B7")], template="{nope}")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.preview_label.text().startswith("Invalid template")
    check(dialog.preview_label.grab().toImage(), palette)

    host = QWidget()
    qtbot.addWidget(host)
    label = ApiCallsLabel(host)
    label.show_usage(990, 1000)
    host.show()
    check(label.grab().toImage(), palette)


def test_contrast_ratio_matches_wcag() -> None:
    assert theme.contrast_ratio(QColor("black"), QColor("white")) == pytest.approx(21.0)
    assert theme.contrast_ratio(QColor("#777777"), QColor("white")) == pytest.approx(4.48, abs=0.01)

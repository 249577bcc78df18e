"""The few colours of our own (message banners, error text, the error-line highlight), taken from the palette.

Hard-coded light colours under a dark theme's white text were unreadable, so every colour here starts from
the palette it is shown in and is then pushed lighter or darker until it reads: WCAG's contrast ratio of at
least ``MIN_CONTRAST`` between text and its background. Style sheets are built from the palette of the
widget's window (a label's own palette is rewritten by its style sheet, so it cannot be the reference).
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

__all__ = [
    "MIN_CONTRAST",
    "banner_colours",
    "banner_style",
    "contrast_ratio",
    "dark_palette",
    "error_line_colour",
    "error_text_colour",
    "error_text_style",
    "is_dark",
    "palette_of",
    "readable",
    "reason_banner_style",
]

MIN_CONTRAST = 4.5  # WCAG 2 AA for normal text

# Hues of the three message kinds (light-theme accents; the dark theme derives from the same hues).
_ACCENTS = {"info": QColor("#2f7bd1"), "warning": QColor("#d8a600"), "error": QColor("#c42b1c")}
_ERROR = QColor("#b00020")


def palette_of(widget: QWidget | None) -> QPalette:
    """The palette of ``widget``'s window (the application's without a widget)."""
    if widget is None:
        return QApplication.palette()
    return widget.window().palette()


def _luminance(colour: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())
    )


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG 2 contrast ratio of two opaque colours: 1 (same) to 21 (black on white)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def is_dark(palette: QPalette) -> bool:
    """A dark theme: its window is darker than its text."""
    return _luminance(palette.color(QPalette.ColorRole.Window)) < _luminance(
        palette.color(QPalette.ColorRole.WindowText)
    )


def _mix(base: QColor, tint: QColor, amount: float) -> QColor:
    return QColor.fromRgbF(
        base.redF() + (tint.redF() - base.redF()) * amount,
        base.greenF() + (tint.greenF() - base.greenF()) * amount,
        base.blueF() + (tint.blueF() - base.blueF()) * amount,
    )


def readable(colour: QColor, background: QColor, ratio: float = MIN_CONTRAST) -> QColor:
    """``colour``, moved towards white (on a dark background) or black (on a light one) until it reaches
    ``ratio`` against ``background``; keeps its hue as long as it can."""
    target = QColor("white") if _luminance(background) < 0.18 else QColor("black")
    for step in range(21):
        candidate = _mix(colour, target, step / 20)
        if contrast_ratio(candidate, background) >= ratio:
            return candidate
    return target


def error_text_colour(palette: QPalette) -> QColor:
    """Red text that reads on the window's background."""
    return readable(_ERROR, palette.color(QPalette.ColorRole.Window))


def error_text_style(widget: QWidget) -> str:
    """A style sheet fragment for error text in ``widget``."""
    return f"color: {error_text_colour(palette_of(widget)).name()};"


def error_line_colour(palette: QPalette) -> QColor:
    """Background of a highlighted line in a text editor: a red tint of its base that keeps the palette's
    text readable over it."""
    base, text = palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)
    amount = 0.3 if is_dark(palette) else 0.12
    while amount > 0:
        tint = _mix(base, _ACCENTS["error"], amount)
        if contrast_ratio(text, tint) >= MIN_CONTRAST:
            return tint
        amount -= 0.02
    return base


def banner_colours(kind: str, palette: QPalette) -> tuple[QColor, QColor, QColor]:
    """(background, text, accent) of a message banner of ``kind`` (info, warning, error)."""
    accent = _ACCENTS.get(kind, _ACCENTS["info"])
    window = palette.color(QPalette.ColorRole.Window)
    background = _mix(window, accent, 0.28 if is_dark(palette) else 0.16)
    text = readable(palette.color(QPalette.ColorRole.WindowText), background)
    return background, text, accent


def banner_style(kind: str, palette: QPalette) -> str:
    """Style sheet declarations for a banner: tinted background, readable text, accent edge."""
    background, text, accent = banner_colours(kind, palette)
    return f"background: {background.name()}; color: {text.name()}; border-left: 4px solid {accent.name()};"


def reason_banner_style(widget: QWidget) -> str:
    """A boxed warning note at the top of a dialog (why the dialog opened), in ``widget``'s palette."""
    background, text, accent = banner_colours("warning", palette_of(widget))
    return (
        f"background: {background.name()}; color: {text.name()}; border: 1px solid {accent.name()};"
        " border-radius: 4px; padding: 6px;"
    )


def dark_palette() -> QPalette:
    """A dark palette for the Fusion style (the screenshot script's ``--dark``, and the tests that check
    contrast under a dark theme)."""
    palette = QPalette()
    roles = QPalette.ColorRole
    for role, colour in (
        (roles.Window, "#353535"),
        (roles.WindowText, "#f0f0f0"),
        (roles.Base, "#262626"),
        (roles.AlternateBase, "#3a3a3a"),
        (roles.ToolTipBase, "#353535"),
        (roles.ToolTipText, "#f0f0f0"),
        (roles.PlaceholderText, "#9a9a9a"),
        (roles.Text, "#f0f0f0"),
        (roles.Button, "#3c3c3c"),
        (roles.ButtonText, "#f0f0f0"),
        (roles.BrightText, "#ff6b6b"),
        (roles.Light, "#505050"),
        (roles.Midlight, "#454545"),
        (roles.Mid, "#2c2c2c"),
        (roles.Dark, "#1e1e1e"),
        (roles.Shadow, "#141414"),
        (roles.Link, "#6cb4ff"),
        (roles.LinkVisited, "#b48cff"),
        (roles.Highlight, "#2f7bd1"),
        (roles.HighlightedText, "#ffffff"),
    ):
        palette.setColor(role, QColor(colour))
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        palette.setColor(disabled, role, QColor("#808080"))
    return palette

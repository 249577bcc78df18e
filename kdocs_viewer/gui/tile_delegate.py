"""Paints one picture tile: thumbnail or placeholder or error, caption, tag chip, countdown badge.

Everything is computed at paint time from the row's plain state; the remaining lease time comes from
``time.monotonic()`` here, so one 1 Hz viewport repaint keeps every visible badge current without a single
``dataChanged``. Only O(1) work per tile: no decoding, no scaling of big images, no model scans.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

from PySide6.QtCore import (
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
    QStaticText,
    QTransform,
)
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from kdocs_viewer.core.expiry import lease_state
from kdocs_viewer.core.models import Ident, Lease, LeaseState
from kdocs_viewer.gui.i18n import tag_label
from kdocs_viewer.gui.picture_model import PaintRole, PicState, PictureItem

AnyIndex = QModelIndex | QPersistentModelIndex

PAD = 6  # around the thumbnail box, and between box and caption


WARM_UP_CAPTION = "A1  产品图 Photo"


class Urgency(Enum):
    """The badge's colour: ``expiry.lease_state``, plus "no lease yet"."""

    NONE = "none"  # no lease yet: no badge
    CALM = "calm"
    URGENT = "urgent"  # expiring soon: nobody is renewing this link (see expiry.EXPIRING_SOON)
    EXPIRED = "expired"
    UNBOUNDED = "unbounded"


_URGENCY = {
    LeaseState.FRESH: Urgency.CALM,
    LeaseState.EXPIRING: Urgency.URGENT,
    LeaseState.EXPIRED: Urgency.EXPIRED,
    LeaseState.UNBOUNDED: Urgency.UNBOUNDED,
}


@dataclass(frozen=True, slots=True)
class Badge:
    text: str
    urgency: Urgency


def format_left(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour), rounded up so ``0:00`` is never shown for a live lease."""
    whole = max(0, math.ceil(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def badge_text(lease: Lease | None, now: float) -> Badge:
    """What the countdown badge says at monotonic time ``now`` — a pure function, so tests can pin it.

    ``9:41`` left; ``≈4:59`` for an estimated lifetime; ``expired``; ``∞`` when no expiry is known.
    """
    if lease is None:
        return Badge("", Urgency.NONE)
    urgency = _URGENCY[lease_state(lease, now)]
    left = lease.remaining(now)
    if left is None:
        return Badge("∞", urgency)
    if urgency is Urgency.EXPIRED:
        return Badge(QCoreApplication.translate("TileDelegate", "expired"), urgency)
    text = format_left(left)
    return Badge("≈" + text if lease.estimated else text, urgency)


# Badge colours sit on top of pictures, so they carry their own contrast instead of following the palette.
_BADGE_COLOURS: dict[Urgency, tuple[QColor, QColor]] = {
    Urgency.CALM: (QColor(24, 96, 56, 215), QColor(255, 255, 255)),
    Urgency.URGENT: (QColor(200, 30, 30, 235), QColor(255, 255, 255)),
    Urgency.EXPIRED: (QColor(90, 90, 90, 230), QColor(255, 215, 215)),
    Urgency.UNBOUNDED: (QColor(40, 70, 140, 200), QColor(255, 255, 255)),
}
_CHIP_COLOURS = (QColor(0, 0, 0, 150), QColor(255, 255, 255))


def badge_colours(urgency: Urgency) -> tuple[QColor, QColor]:
    """(background, text) of the badge for an urgency."""
    return _BADGE_COLOURS.get(urgency, _BADGE_COLOURS[Urgency.CALM])


CHECKER_SQUARE = 8  # logical px
CHECKER_COLOURS = (QColor(204, 204, 204), QColor(153, 153, 153))  # neutral greys, whatever the theme
_checker_brush: QBrush | None = None


def checkerboard_brush() -> QBrush:
    """The neutral checkerboard transparent pictures sit on (tiles and preview alike), not the theme's
    background: a logo with a transparent background must look the same in a light and a dark theme."""
    global _checker_brush
    if _checker_brush is None:
        side = 2 * CHECKER_SQUARE
        pattern = QPixmap(side, side)
        pattern.fill(CHECKER_COLOURS[0])
        painter = QPainter(pattern)
        painter.fillRect(0, 0, CHECKER_SQUARE, CHECKER_SQUARE, CHECKER_COLOURS[1])
        painter.fillRect(CHECKER_SQUARE, CHECKER_SQUARE, CHECKER_SQUARE, CHECKER_SQUARE, CHECKER_COLOURS[1])
        painter.end()
        _checker_brush = QBrush(pattern)
    return _checker_brush


def placeholder_color(palette: QPalette) -> QColor:
    """The fill of a tile whose thumbnail is not there yet (tests compare pixels against it)."""
    return palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.AlternateBase)


# Flag combinations built once: PySide's enum arithmetic costs microseconds per operation, per tile.
_HINTS = QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform
_SELECTED = QStyle.StateFlag.State_Selected
_SELECTED_OR_FOCUSED = QStyle.StateFlag.State_Selected | QStyle.StateFlag.State_HasFocus

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A tiny LRU by entry count: the delegate's pre-rendered parts are small and of similar size."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.capacity:
            self._data.popitem(last=False)

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


@dataclass(frozen=True, slots=True)
class Sprite:
    """A pre-rendered part and its size in device-independent pixels."""

    pixmap: QPixmap
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class _Caption:
    text: QStaticText
    dx: float  # horizontal offset that centres it in the caption line
    dy: float


@dataclass(slots=True)
class _Fonts:
    """Everything derived from the view's font, built once per (font, device pixel ratio)."""

    base: QFont
    metrics: QFontMetrics
    chip: QFont
    chip_metrics: QFontMetrics
    badge: QFont
    badge_metrics: QFontMetrics


def grid_cell_size(tile: int, font_metrics: QFontMetrics) -> QSize:
    """The fixed grid cell for a tile size: thumbnail box, caption line and padding."""
    return QSize(tile + 2 * PAD, tile + 2 * PAD + font_metrics.height() + PAD)


class TileDelegate(QStyledItemDelegate):
    """Paints tiles of ``tile_size`` px; the view sets the size from its slider buckets.

    Painting runs on the GUI thread many times a second, and every PySide call releases and re-takes the GIL
    (with busy workers each re-take can wait milliseconds). So the parts that rarely change — tag chip,
    countdown badge, placeholder and error faces — are rendered once into small pixmaps (at the paint device's
    pixel ratio) held in bounded caches, fonts and metrics are built once per view font, and captions are
    elided and laid out once per (row, width) as ``QStaticText``. A tile then costs a handful of calls.
    Cache keys carry what the picture depends on (text, size, palette, pixel ratio); a font change clears all.
    """

    BADGE_CACHE = 256  # badge texts change every second: m:ss × urgency, bounded
    CHIP_CACHE = 64
    FACE_CACHE = 64  # placeholder and error faces (error faces differ by reason)
    CAPTION_CACHE = 2048

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tile = 160
        self._clock = time.monotonic
        self._fonts: _Fonts | None = None
        self._palette_key: tuple[int, object] | None = None
        self._text_colour = QColor()
        self._badges: BoundedCache[tuple[str, Urgency, float], Sprite] = BoundedCache(self.BADGE_CACHE)
        self._chips: BoundedCache[tuple[str, int, float], Sprite] = BoundedCache(self.CHIP_CACHE)
        self._faces: BoundedCache[tuple[object, ...], Sprite] = BoundedCache(self.FACE_CACHE)
        self._captions: BoundedCache[tuple[Ident, int, str], _Caption] = BoundedCache(
            self.CAPTION_CACHE
        )

    def set_tile_size(self, px: int) -> None:
        self._tile = px

    def tile_size(self) -> int:
        return self._tile

    def warm_up(self, font: QFont) -> None:
        """Shape a caption with Chinese and Latin text once, while the window is idle.

        The first Chinese caption makes Qt look up and load a fallback font (fontconfig): ~8 ms inside the
        first paint of the tiles, right after the first Load, if nobody did it before.
        """
        QFontMetrics(font).elidedText(WARM_UP_CAPTION, Qt.TextElideMode.ElideRight, 80)

    def set_clock(self, clock: object) -> None:
        """Tests may drive the badge clock; production uses ``time.monotonic``."""
        if callable(clock):
            self._clock = clock

    def cache_sizes(self) -> dict[str, int]:
        """Entries per pre-rendered-part cache (tests check they stay bounded)."""
        return {
            "badges": len(self._badges),
            "chips": len(self._chips),
            "faces": len(self._faces),
            "captions": len(self._captions),
        }

    def clear_caches(self) -> None:
        """Forget every pre-rendered part (font, language or style changed)."""
        for cache in (self._badges, self._chips, self._faces, self._captions):
            cache.clear()
        self._fonts = None
        self._palette_key = None

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        return grid_cell_size(self._tile, option.fontMetrics)

    # -- per-paint context -----------------------------------------------------------------------------
    def _fonts_for(self, option: QStyleOptionViewItem) -> _Fonts:
        font: QFont = option.font
        fonts = self._fonts
        if fonts is None or font != fonts.base:
            self.clear_caches()
            font = QFont(font)  # option.font belongs to the option, which dies after this paint
            metrics = QFontMetrics(option.fontMetrics)
            chip = _chip_font(metrics, font)
            badge = QFont(chip)
            badge.setBold(True)
            fonts = _Fonts(font, metrics, chip, QFontMetrics(chip), badge, QFontMetrics(badge))
            self._fonts = fonts
        return fonts

    def _palette_state(self, palette: QPalette) -> tuple[int, object]:
        key = (palette.cacheKey(), palette.currentColorGroup())
        if key != self._palette_key:
            self._palette_key = key
            self._text_colour = palette.color(QPalette.ColorRole.Text)
        return key

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        paint_data = index.data(PaintRole)  # one trip through the (proxy) model, not two
        if not isinstance(paint_data, tuple):
            return
        item, pixmap, bucket = paint_data
        if not isinstance(item, PictureItem):
            return
        rect: QRect = option.rect
        palette: QPalette = option.palette
        state = option.state
        fonts = self._fonts_for(option)
        palette_key = self._palette_state(palette)
        device = painter.device()
        dpr = device.devicePixelRatioF() if device is not None else 1.0
        left, top, width = rect.left(), rect.top(), rect.width()

        painter.save()
        painter.setRenderHints(_HINTS)
        if state & _SELECTED_OR_FOCUSED:
            self._paint_selection(painter, rect, palette, bool(state & _SELECTED))

        side = max(8, min(self._tile, width - 2 * PAD))
        box_left, box_top = left + (width - side) // 2, top + PAD
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            # A thumbnail from a smaller bucket (slider just moved) may grow; a tiny picture stays tiny.
            grow = self._tile / bucket if bucket else 1.0
            self._paint_pixmap(painter, QRect(box_left, box_top, side, side), pixmap, max(1.0, grow))
        else:
            if item.state is PicState.FAILED:
                face = self._error_face(side, palette, palette_key, fonts, option.widget, item.error, dpr)
            else:
                face = self._placeholder_face(side, palette, palette_key, fonts, dpr)
            painter.drawPixmap(box_left, box_top, face.pixmap)

        tag = item.ref.tag
        if tag and side >= 48:
            chip = self._chip(tag_label(tag), side // 2, fonts, dpr)
            painter.drawPixmap(box_left + 3, box_top + side - 1 - chip.height - 2, chip.pixmap)
        badge = badge_text(item.lease, self._clock())
        if badge.text:
            sprite = self._badge(badge, fonts, dpr)
            painter.drawPixmap(box_left + side - 1 - sprite.width - 2, box_top + 3, sprite.pixmap)

        caption_width = width - 2 * PAD
        caption = self._caption(item, caption_width, fonts)
        painter.setFont(fonts.base)
        painter.setPen(self._text_colour)
        painter.drawStaticText(
            QPointF(left + PAD + caption.dx, box_top + side - 1 + PAD // 2 + caption.dy), caption.text
        )
        painter.restore()

    # -- parts -----------------------------------------------------------------------------------------
    @staticmethod
    def _paint_selection(painter: QPainter, rect: QRect, palette: QPalette, selected: bool) -> None:
        cell = QRectF(rect.adjusted(2, 2, -2, -2))
        if selected:
            highlight = palette.color(QPalette.ColorRole.Highlight)
            fill = QColor(highlight)
            fill.setAlpha(90)
            painter.setPen(QPen(highlight, 2))
            painter.setBrush(fill)
        else:
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1, Qt.PenStyle.DotLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(cell, 6, 6)

    @staticmethod
    def _paint_pixmap(painter: QPainter, box: QRect, pixmap: QPixmap, max_scale: float) -> None:
        """Fit into the box keeping aspect; it was decoded at box × devicePixelRatio, so usually 1:1."""
        size = pixmap.deviceIndependentSize()
        w, h = size.width(), size.height()
        if w <= 0 or h <= 0:
            return
        scale = min(box.width() / w, box.height() / h, max_scale)
        tw, th = w * scale, h * scale
        target = QRectF(box.left() + (box.width() - tw) / 2, box.top() + (box.height() - th) / 2, tw, th)
        if pixmap.hasAlphaChannel():
            painter.fillRect(target, checkerboard_brush())
        painter.drawPixmap(target, pixmap, QRectF(pixmap.rect()))

    def _caption(self, item: PictureItem, width: int, fonts: _Fonts) -> _Caption:
        label = item.short_label()
        key = (item.ident, width, label)
        caption = self._captions.get(key)
        if caption is None:
            metrics = fonts.metrics
            text = QStaticText(metrics.elidedText(label, Qt.TextElideMode.ElideRight, width))
            text.setTextFormat(Qt.TextFormat.PlainText)
            text.prepare(QTransform(), fonts.base)
            size = text.size()
            caption = _Caption(text, (width - size.width()) / 2, (metrics.height() - size.height()) / 2)
            self._captions.put(key, caption)
        return caption

    def _chip(self, tag: str, max_width: int, fonts: _Fonts, dpr: float) -> Sprite:
        key = (tag, max_width, dpr)
        sprite = self._chips.get(key)
        if sprite is None:
            fm = fonts.chip_metrics
            text = fm.elidedText(tag, Qt.TextElideMode.ElideRight, max_width)
            w, h = fm.horizontalAdvance(text) + 8, fm.height() + 2
            bg, fg = _CHIP_COLOURS
            sprite = _render(w, h, dpr, lambda p: _paint_label(p, w, h, 3, bg, fg, fonts.chip, text))
            self._chips.put(key, sprite)
        return sprite

    def _badge(self, badge: Badge, fonts: _Fonts, dpr: float) -> Sprite:
        key = (badge.text, badge.urgency, dpr)
        sprite = self._badges.get(key)
        if sprite is None:
            fm = fonts.badge_metrics
            w, h = fm.horizontalAdvance(badge.text) + 10, fm.height() + 2
            bg, fg = badge_colours(badge.urgency)
            sprite = _render(
                w, h, dpr, lambda p: _paint_label(p, w, h, h / 2, bg, fg, fonts.badge, badge.text)
            )
            self._badges.put(key, sprite)
        return sprite

    def _placeholder_face(
        self, side: int, palette: QPalette, palette_key: object, fonts: _Fonts, dpr: float
    ) -> Sprite:
        key = ("placeholder", side, palette_key, dpr)
        sprite = self._faces.get(key)
        if sprite is None:

            def draw(p: QPainter) -> None:
                box = QRect(0, 0, side, side)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(placeholder_color(palette))
                p.drawRoundedRect(QRectF(box), 4, 4)
                p.setFont(fonts.base)
                p.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
                p.drawText(box, int(Qt.AlignmentFlag.AlignCenter), "…")

            sprite = _render(side, side, dpr, draw)
            self._faces.put(key, sprite)
        return sprite

    def _error_face(
        self,
        side: int,
        palette: QPalette,
        palette_key: object,
        fonts: _Fonts,
        widget: QWidget | None,
        reason: str,
        dpr: float,
    ) -> Sprite:
        """Icon, "Failed" and as much of the reason as fits: a user should not need a tooltip to learn why."""
        failed = self.tr("Failed")
        key = ("error", side, palette_key, dpr, failed, reason, widget is not None)
        sprite = self._faces.get(key)
        if sprite is None:

            def draw(p: QPainter) -> None:
                _paint_error(p, QRect(0, 0, side, side), palette, fonts, widget, failed, reason)

            sprite = _render(side, side, dpr, draw)
            self._faces.put(key, sprite)
        return sprite


def _chip_font(metrics: QFontMetrics, base: QFont) -> QFont:
    font = QFont(base)
    if font.pointSizeF() > 0:
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
    else:
        font.setPixelSize(max(8, int(metrics.height() * 0.8)))
    return font


def _render(width: int, height: int, dpr: float, draw: Callable[[QPainter], None]) -> Sprite:
    """A transparent pixmap of ``width`` × ``height`` logical px at ``dpr``, painted by ``draw``."""
    pixmap = QPixmap(max(1, math.ceil(width * dpr)), max(1, math.ceil(height * dpr)))
    pixmap.setDevicePixelRatio(dpr)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    try:
        painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
        draw(painter)
    finally:
        painter.end()
    return Sprite(pixmap, width, height)


def _paint_label(
    p: QPainter, w: int, h: int, radius: float, bg: QColor, fg: QColor, font: QFont, text: str
) -> None:
    """A rounded rectangle with centred text: the tag chip and the countdown badge."""
    p.setFont(font)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(bg)
    p.drawRoundedRect(QRectF(0, 0, w, h), radius, radius)
    p.setPen(fg)
    p.drawText(QRect(0, 0, w, h), int(Qt.AlignmentFlag.AlignCenter), text)


def _paint_error(
    painter: QPainter,
    box: QRect,
    palette: QPalette,
    fonts: _Fonts,
    widget: QWidget | None,
    failed: str,
    reason: str,
) -> None:
    metrics = fonts.metrics
    painter.setFont(fonts.base)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(placeholder_color(palette))
    painter.drawRoundedRect(QRectF(box), 4, 4)
    style = widget.style() if widget is not None else None
    icon_side = max(16, min(32, box.width() // 4))
    text_h = metrics.height()
    reason_lines = max(0, min(3, (box.height() - icon_side - 2 * text_h - 12) // text_h)) if reason else 0
    top = box.top() + (box.height() - icon_side - text_h * (1 + reason_lines) - 4) // 2
    if style is not None:
        icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning, None, widget)
        icon.paint(painter, QRect(box.left() + (box.width() - icon_side) // 2, top, icon_side, icon_side))
    painter.setPen(palette.color(QPalette.ColorRole.Text))
    text_rect = QRect(box.left() + 4, top + icon_side + 4, box.width() - 8, text_h)
    text = metrics.elidedText(failed, Qt.TextElideMode.ElideRight, text_rect.width())
    painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignCenter), text)
    if reason_lines:
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        width = text_rect.width()
        reason_rect = QRect(text_rect.left(), text_rect.bottom() + 2, width, text_h * reason_lines)
        flags = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
        fitted = metrics.elidedText(reason, Qt.TextElideMode.ElideRight, width * reason_lines)
        painter.drawText(reason_rect, int(flags), fitted)

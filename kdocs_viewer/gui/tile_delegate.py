"""Paints one picture tile: thumbnail or placeholder or error, caption, tag chip, countdown badge.

Everything is computed at paint time from the row's plain state; the remaining lease time comes from
``time.monotonic()`` here, so one 1 Hz viewport repaint keeps every visible badge current without a single
``dataChanged``. Only O(1) work per tile: no decoding, no scaling of big images, no model scans.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import (
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from kdocs_viewer.core.models import Lease
from kdocs_viewer.gui.picture_model import ItemRole, PicState, PictureItem, PixmapRole

AnyIndex = QModelIndex | QPersistentModelIndex

PAD = 6  # around the thumbnail box, and between box and caption
WARNING_BELOW = 120.0  # seconds: the badge turns amber
URGENT_BELOW = 30.0  # seconds: the badge turns red


class Urgency(Enum):
    NONE = "none"  # no lease yet: no badge
    CALM = "calm"
    WARNING = "warning"
    URGENT = "urgent"
    EXPIRED = "expired"
    UNBOUNDED = "unbounded"


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
    left = lease.remaining(now)
    if left is None:
        return Badge("∞", Urgency.UNBOUNDED)
    if left <= 0:
        return Badge(QCoreApplication.translate("TileDelegate", "expired"), Urgency.EXPIRED)
    text = format_left(left)
    if lease.estimated:
        text = "≈" + text
    if left < URGENT_BELOW:
        return Badge(text, Urgency.URGENT)
    if left < WARNING_BELOW:
        return Badge(text, Urgency.WARNING)
    return Badge(text, Urgency.CALM)


# Badge colours sit on top of pictures, so they carry their own contrast instead of following the palette.
_BADGE_COLOURS: dict[Urgency, tuple[QColor, QColor]] = {
    Urgency.CALM: (QColor(24, 96, 56, 215), QColor(255, 255, 255)),
    Urgency.WARNING: (QColor(214, 140, 0, 230), QColor(0, 0, 0)),
    Urgency.URGENT: (QColor(200, 30, 30, 235), QColor(255, 255, 255)),
    Urgency.EXPIRED: (QColor(90, 90, 90, 230), QColor(255, 215, 215)),
    Urgency.UNBOUNDED: (QColor(40, 70, 140, 200), QColor(255, 255, 255)),
}
_CHIP_COLOURS = (QColor(0, 0, 0, 150), QColor(255, 255, 255))


def badge_colours(urgency: Urgency) -> tuple[QColor, QColor]:
    """(background, text) of the badge for an urgency."""
    return _BADGE_COLOURS.get(urgency, _BADGE_COLOURS[Urgency.CALM])


def placeholder_color(palette: QPalette) -> QColor:
    """The fill of a tile whose thumbnail is not there yet (tests compare pixels against it)."""
    return palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.AlternateBase)


def grid_cell_size(tile: int, font_metrics: QFontMetrics) -> QSize:
    """The fixed grid cell for a tile size: thumbnail box, caption line and padding."""
    return QSize(tile + 2 * PAD, tile + 2 * PAD + font_metrics.height() + PAD)


class TileDelegate(QStyledItemDelegate):
    """Paints tiles of ``tile_size`` px; the view sets the size from its slider buckets."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tile = 160
        self._clock = time.monotonic

    def set_tile_size(self, px: int) -> None:
        self._tile = px

    def tile_size(self) -> int:
        return self._tile

    def set_clock(self, clock: object) -> None:
        """Tests may drive the badge clock; production uses ``time.monotonic``."""
        if callable(clock):
            self._clock = clock

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        return grid_cell_size(self._tile, option.fontMetrics)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        item = index.data(ItemRole)
        if not isinstance(item, PictureItem):
            return
        rect: QRect = option.rect
        palette: QPalette = option.palette
        state = option.state
        widget = option.widget
        selected = bool(state & QStyle.StateFlag.State_Selected)
        focused = bool(state & QStyle.StateFlag.State_HasFocus)
        metrics: QFontMetrics = option.fontMetrics

        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        cell = rect.adjusted(2, 2, -2, -2)
        if selected:
            highlight = palette.color(QPalette.ColorRole.Highlight)
            fill = QColor(highlight)
            fill.setAlpha(90)
            painter.setPen(QPen(highlight, 2))
            painter.setBrush(fill)
            painter.drawRoundedRect(QRectF(cell), 6, 6)
        elif focused:
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1, Qt.PenStyle.DotLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(QRectF(cell), 6, 6)

        side = max(8, min(self._tile, rect.width() - 2 * PAD))
        box = QRect(rect.left() + (rect.width() - side) // 2, rect.top() + PAD, side, side)
        pixmap = index.data(PixmapRole)
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            # A thumbnail from a smaller bucket (slider just moved) may grow; a tiny picture stays tiny.
            grow = self._tile / item.thumb_bucket if item.thumb_bucket else 1.0
            self._paint_pixmap(painter, box, pixmap, max(1.0, grow))
        elif item.state is PicState.FAILED:
            self._paint_error(painter, box, palette, metrics, widget, item.error)
        else:
            self._paint_placeholder(painter, box, palette, metrics)

        self._paint_tag_chip(painter, box, item.ref.tag, metrics)
        self._paint_badge(painter, box, item.lease, metrics)

        painter.setFont(option.font)
        caption_rect = QRect(
            rect.left() + PAD, box.bottom() + PAD // 2, rect.width() - 2 * PAD, metrics.height()
        )
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        text = metrics.elidedText(item.short_label(), Qt.TextElideMode.ElideRight, caption_rect.width())
        painter.drawText(
            caption_rect, int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter), text
        )
        painter.restore()

    # -- parts -----------------------------------------------------------------------------------------
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
        painter.drawPixmap(target, pixmap, QRectF(pixmap.rect()))

    @staticmethod
    def _paint_placeholder(painter: QPainter, box: QRect, palette: QPalette, metrics: QFontMetrics) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(placeholder_color(palette))
        painter.drawRoundedRect(QRectF(box), 4, 4)
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), "…")

    def _paint_error(
        self,
        painter: QPainter,
        box: QRect,
        palette: QPalette,
        metrics: QFontMetrics,
        widget: QWidget | None,
        reason: str,
    ) -> None:
        """Icon, "Failed" and as much of the reason as fits: a user should not need a tooltip to learn why."""
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
        text = metrics.elidedText(self.tr("Failed"), Qt.TextElideMode.ElideRight, text_rect.width())
        painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignCenter), text)
        if reason_lines:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            width = text_rect.width()
            reason_rect = QRect(text_rect.left(), text_rect.bottom() + 2, width, text_h * reason_lines)
            flags = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
            fitted = metrics.elidedText(reason, Qt.TextElideMode.ElideRight, width * reason_lines)
            painter.drawText(reason_rect, int(flags), fitted)

    @staticmethod
    def _chip_font(metrics: QFontMetrics, base: QFont) -> QFont:
        font = QFont(base)
        if font.pointSizeF() > 0:
            font.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
        else:
            font.setPixelSize(max(8, int(metrics.height() * 0.8)))
        return font

    def _paint_tag_chip(self, painter: QPainter, box: QRect, tag: str, metrics: QFontMetrics) -> None:
        if not tag or box.width() < 48:
            return
        base = painter.font()
        font = self._chip_font(metrics, base)
        painter.setFont(font)
        fm = QFontMetrics(font)
        text = fm.elidedText(tag, Qt.TextElideMode.ElideRight, box.width() // 2)
        w, h = fm.horizontalAdvance(text) + 8, fm.height() + 2
        chip = QRect(box.left() + 3, box.bottom() - h - 2, w, h)
        bg, fg = _CHIP_COLOURS
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(bg)
        painter.drawRoundedRect(QRectF(chip), 3, 3)
        painter.setPen(fg)
        painter.drawText(chip, int(Qt.AlignmentFlag.AlignCenter), text)
        painter.setFont(base)

    def _paint_badge(self, painter: QPainter, box: QRect, lease: Lease | None, metrics: QFontMetrics) -> None:
        badge = badge_text(lease, self._clock())
        if not badge.text:
            return
        base = painter.font()
        font = self._chip_font(metrics, base)
        font.setBold(True)
        painter.setFont(font)
        fm = QFontMetrics(font)
        w, h = fm.horizontalAdvance(badge.text) + 10, fm.height() + 2
        rect = QRect(box.right() - w - 2, box.top() + 3, w, h)
        bg, fg = badge_colours(badge.urgency)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(bg)
        painter.drawRoundedRect(QRectF(rect), h / 2, h / 2)
        painter.setPen(fg)
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), badge.text)
        painter.setFont(base)

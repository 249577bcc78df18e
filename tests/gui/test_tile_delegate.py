"""The tile delegate paints every tile state from its caches, stays bounded, and follows the palette."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QPixmap, QRegion
from PySide6.QtWidgets import QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from kdocs_viewer.core.cache import ByteBudgetCache
from kdocs_viewer.core.models import Lease, PicRef
from kdocs_viewer.gui.picture_grid import PictureGrid
from kdocs_viewer.gui.picture_model import PictureModel, ThumbKey, ThumbnailResult, pixmap_bytes
from kdocs_viewer.gui.tile_delegate import (
    CHECKER_COLOURS,
    TileDelegate,
    Urgency,
    badge_colours,
    badge_text,
    placeholder_color,
)

NOW = 10_000.0
THUMB = QColor(40, 160, 220)

# (ttl, obtained_at, estimated) → the badge it must show at NOW
BADGES: list[tuple[float | None, float, bool, Urgency]] = [
    (600.0, NOW - 10, False, Urgency.CALM),
    (300.0, NOW - 250, False, Urgency.CALM),  # 50 s left, past its refresh point: a refresh is coming
    (600.0, NOW - 590, False, Urgency.URGENT),
    (600.0, NOW - 900, False, Urgency.EXPIRED),
    (None, NOW - 900, False, Urgency.UNBOUNDED),
    (300.0, NOW - 10, True, Urgency.CALM),
]


THUMBS: ByteBudgetCache[ThumbKey, QPixmap] = ByteBudgetCache(16 << 20, pixmap_bytes)


def make_grid(qtbot: QtBot, count: int) -> tuple[PictureGrid, PictureModel, list[PicRef]]:
    THUMBS.clear()
    model = PictureModel(THUMBS)
    tags = ("attachment", "local", "cloud")
    refs = [
        PicRef(f"k{i:03d}", tags[i % 3], sheet="S", cell=f"S!B{i + 2}", caption=f"一张很长的图片说明 {i}")
        for i in range(count)
    ]
    model.set_refs(refs)
    grid = PictureGrid()
    qtbot.addWidget(grid)
    grid.setModel(model)
    grid.delegate().set_clock(lambda: NOW)
    grid.resize(900, 700)
    grid.show()
    qtbot.waitExposed(grid)
    model.set_bucket(grid.tile_size())
    return grid, model, refs


def inside_box(tile: int) -> Callable[[QRect], QPoint]:
    """A point inside the thumbnail box of a tile, away from the "…", chip and badge."""
    return lambda r: QPoint(r.left() + r.width() // 2 - tile // 3, r.top() + 6 + tile // 2)


def pixel(grid: PictureGrid, row: int, where: Callable[[QRect], QPoint]) -> QColor:
    rect = grid.visualRect(grid.model().index(row, 0))
    image = grid.viewport().grab(rect).toImage()
    return image.pixelColor(where(rect.translated(-rect.topLeft())))


def test_every_tile_state_paints(qtbot: QtBot) -> None:
    grid, model, refs = make_grid(qtbot, 12)
    tile = grid.tile_size()
    # rows 0..5: a badge each; row 6: failed with a reason; row 7: ready with a thumbnail; the rest loading
    model.apply_outcomes(
        [
            Lease(refs[i], "https://example.invalid/p", at, ttl, estimated)
            for i, (ttl, at, estimated, _) in enumerate(BADGES)
        ]
    )
    model.apply_failures([(refs[6].ident, "not a valid image: the server sent an HTML page instead")])
    thumb = QPixmap(tile, tile)
    thumb.fill(THUMB)
    THUMBS.put(model.thumb_key(model.item(7), tile), thumb)
    model.apply_thumbnails([ThumbnailResult(refs[7].ident, tile, 100, "png", (tile, tile))])
    for i, (_, _, _, urgency) in enumerate(BADGES):
        assert badge_text(model.item(i).lease, NOW).urgency is urgency
    assert badge_text(model.item(5).lease, NOW).text.startswith("≈")

    image = grid.viewport().grab().toImage()
    assert not image.isNull()
    centre = pixel(grid, 7, lambda r: QPoint(r.center().x(), r.top() + 6 + tile // 2))
    assert centre == THUMB
    loading = pixel(grid, 9, inside_box(tile))
    assert loading == placeholder_color(grid.palette())
    # The badge sits in the top-right corner of the box, in its urgency's colour over the placeholder.
    for row, urgency in ((2, Urgency.URGENT), (3, Urgency.EXPIRED), (0, Urgency.CALM)):
        rect = grid.visualRect(model.index(row, 0))
        corner = grid.viewport().grab(rect.adjusted(rect.width() // 2, 0, 0, -rect.height() // 2)).toImage()
        assert has_colour_near(corner, badge_colours(urgency)[0], placeholder_color(grid.palette()))
    sizes = grid.delegate().cache_sizes()
    assert sizes["badges"] >= len({badge_text(model.item(i).lease, NOW) for i in range(6)})
    assert sizes["faces"] >= 2  # a placeholder face and an error face
    grid.stop_clock()


def rgb(colour: QColor) -> tuple[int, int, int]:
    return colour.red(), colour.green(), colour.blue()


def has_colour_near(image: QImage, colour: QColor, under: QColor) -> bool:
    """Some pixel of ``image`` is ``colour`` blended over ``under`` (badge colours are translucent)."""
    alpha = colour.alphaF()
    want = [round(c * alpha + u * (1 - alpha)) for c, u in zip(rgb(colour), rgb(under), strict=True)]
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            got = rgb(image.pixelColor(x, y))
            if all(abs(g - w) <= 6 for g, w in zip(got, want, strict=True)):
                return True
    return False


def test_caches_stay_bounded_over_many_badge_texts(qtbot: QtBot) -> None:
    grid, model, refs = make_grid(qtbot, 3)
    delegate = grid.delegate()
    model.apply_outcomes([Lease(refs[0], "https://example.invalid/p", NOW, 7200.0)])
    target = QImage(400, 400, QImage.Format.Format_ARGB32_Premultiplied)
    option = QStyleOptionViewItem()
    option.rect = QRect(0, 0, grid.gridSize().width(), grid.gridSize().height())
    option.font = grid.font()
    option.fontMetrics = grid.fontMetrics()
    option.palette = grid.palette()
    clock = [NOW]
    delegate.set_clock(lambda: clock[0])
    painter = QPainter(target)
    try:
        texts = set()
        for step in range(TileDelegate.BADGE_CACHE * 2):
            clock[0] = NOW + step  # a new "m:ss" every paint
            texts.add(badge_text(model.item(0).lease, clock[0]).text)
            delegate.paint(painter, option, model.index(0, 0))
    finally:
        painter.end()
    assert len(texts) == TileDelegate.BADGE_CACHE * 2
    sizes = delegate.cache_sizes()
    assert sizes["badges"] == TileDelegate.BADGE_CACHE
    assert sizes["captions"] == 1 and sizes["chips"] == 1
    grid.stop_clock()


def test_palette_change_repaints_with_new_colours(qtbot: QtBot) -> None:
    grid, _, _ = make_grid(qtbot, 4)

    def placeholder_pixel() -> QColor:
        return pixel(grid, 1, inside_box(grid.tile_size()))

    assert placeholder_pixel() == placeholder_color(grid.palette())
    dark = QPalette(grid.palette())
    dark.setColor(QPalette.ColorRole.AlternateBase, QColor(30, 32, 36))
    dark.setColor(QPalette.ColorRole.Text, QColor(230, 230, 230))
    grid.setPalette(dark)
    assert placeholder_color(grid.palette()) == QColor(30, 32, 36)
    assert placeholder_pixel() == QColor(30, 32, 36)
    grid.stop_clock()


def painted_extent(image: QImage, colour: QColor) -> tuple[int, int]:
    """Width and height of the bounding box of the pixels that are exactly ``colour``."""
    xs: list[int] = []
    ys: list[int] = []
    for y in range(image.height()):
        for x in range(image.width()):
            if image.pixelColor(x, y) == colour:
                xs.append(x)
                ys.append(y)
    assert xs, "the thumbnail was not painted"
    return max(xs) - min(xs) + 1, max(ys) - min(ys) + 1


def test_a_small_picture_keeps_its_size_after_a_slider_round_trip(qtbot: QtBot) -> None:
    """160 → 128 → 160: the 160 thumbnail is cached, the last decode was for 128; it must not grow 1.25×."""
    grid, model, refs = make_grid(qtbot, 1)
    small = QPixmap(100, 80)  # smaller than both buckets: decoded at its own size for each
    small.fill(THUMB)
    item = model.item(0)
    for bucket in (160, 128, 160):
        grid.set_tile_size(bucket)
        model.set_bucket(grid.tile_size())
        key = model.thumb_key(item, grid.tile_size())
        if THUMBS.get(key) is None:  # the third step finds the 160 thumbnail in the cache: no decode
            THUMBS.put(key, small)
            model.apply_thumbnails([ThumbnailResult(refs[0].ident, grid.tile_size(), 100, "png", (100, 80))])
    assert grid.tile_size() == 160 and item.thumb_bucket == 128

    target = QImage(grid.gridSize(), QImage.Format.Format_ARGB32_Premultiplied)
    target.fill(QColor(0, 0, 0, 0))
    option = QStyleOptionViewItem()
    option.rect = QRect(0, 0, grid.gridSize().width(), grid.gridSize().height())
    option.font = grid.font()
    option.fontMetrics = grid.fontMetrics()
    option.palette = grid.palette()
    painter = QPainter(target)
    try:
        grid.delegate().paint(painter, option, model.index(0, 0))
    finally:
        painter.end()
    assert painted_extent(target, THUMB) == (100, 80)


def count_colour(image: QImage, colour: QColor) -> int:
    want = rgb(colour)
    return sum(
        1 for y in range(image.height()) for x in range(image.width()) if rgb(image.pixelColor(x, y)) == want
    )


def test_transparent_pictures_sit_on_the_neutral_checkerboard(qtbot: QtBot) -> None:
    grid, model, refs = make_grid(qtbot, 2)
    tile = grid.tile_size()
    clear = QPixmap(tile, tile)
    clear.fill(QColor(0, 0, 0, 0))
    assert clear.hasAlphaChannel()
    THUMBS.put(model.thumb_key(model.item(0), tile), clear)
    model.apply_thumbnails([ThumbnailResult(refs[0].ident, tile, 100, "png", (tile, tile))])
    rect = grid.visualRect(model.index(0, 0))
    box = grid.viewport().grab(rect).toImage()
    light, dark = CHECKER_COLOURS
    assert count_colour(box, light) > tile * tile // 4
    assert count_colour(box, dark) > tile * tile // 4
    assert count_colour(box, placeholder_color(grid.palette())) < tile  # not the theme's placeholder
    grid.stop_clock()


def test_at_device_pixel_ratio_2_a_small_picture_keeps_its_logical_size(qtbot: QtBot) -> None:
    """A 60×40 thumbnail of dpr 1 covers 120×80 device pixels of a 2× target, not 60×40."""
    grid, model, refs = make_grid(qtbot, 1)
    tile = grid.tile_size()
    small = QPixmap(60, 40)
    small.fill(THUMB)
    THUMBS.put(model.thumb_key(model.item(0), tile), small)
    model.apply_thumbnails([ThumbnailResult(refs[0].ident, tile, 100, "png", (60, 40))])
    rect = grid.visualRect(model.index(0, 0))
    target = QImage(rect.width() * 2, rect.height() * 2, QImage.Format.Format_ARGB32_Premultiplied)
    target.setDevicePixelRatio(2.0)
    target.fill(QColor(0, 0, 0))
    grid.viewport().render(target, QPoint(0, 0), QRegion(rect))
    assert abs(count_colour(target, THUMB) - 120 * 80) < 2 * (120 + 80)  # edges may be blended
    grid.stop_clock()

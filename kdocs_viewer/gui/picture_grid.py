"""The grid view: fixed cells spread over the width, cheap visible-range maths, one clock for every badge.

The view never walks all rows. The visible range comes from ``indexAt`` at the top-left and bottom-left cells
of the viewport plus the column count from the fixed grid size; it is recomputed at most every ~50 ms while
the user scrolls or resizes (``visibleRangeChanged``). A single 1 Hz timer repaints the viewport so the
delegate redraws the countdown badges of what is on screen, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import (
    QItemSelectionModel,
    QMimeData,
    QModelIndex,
    QPoint,
    QSize,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QDrag, QKeyEvent, QKeySequence, QPixmap, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QWidget

from kdocs_viewer.gui.picture_model import PixmapRole
from kdocs_viewer.gui.tile_delegate import TileDelegate, grid_cell_size

TILE_BUCKETS: tuple[int, ...] = (96, 128, 160, 200, 256)
DEFAULT_TILE = 160
RANGE_DEBOUNCE_MS = 50
PREFETCH_LINES = 1  # grid lines above and below the viewport that are loaded ahead


def snap_tile_size(px: int) -> int:
    """The nearest bucket: thumbnails are decoded and cached per bucket, so a slider drag reuses them."""
    return min(TILE_BUCKETS, key=lambda b: (abs(b - px), b))


class PictureGrid(QListView):
    """Icon-mode list of tiles with uniform, fixed cells."""

    visibleRangeChanged = Signal()  # debounced; read visible_rows()
    previewRequested = Signal(QModelIndex)  # Enter, Space, double-click
    copyRequested = Signal()  # Ctrl+C
    retryRequested = Signal()  # F5: try failed pictures again
    ticked = Signal()  # the 1 Hz badge clock

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._range_timer = QTimer(self)
        self._range_timer.setSingleShot(True)
        self._range_timer.setInterval(RANGE_DEBOUNCE_MS)
        self._range_timer.timeout.connect(self.visibleRangeChanged)
        self._delegate = TileDelegate(self)
        self.setItemDelegate(self._delegate)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(2000)
        self.setSpacing(0)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionRectVisible(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setMouseTracking(False)
        self._tile = 0
        self._drag_provider: Callable[[], QMimeData | None] | None = None
        self.set_tile_size(DEFAULT_TILE)

        self.verticalScrollBar().valueChanged.connect(self._schedule_range)

        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._on_tick)
        self._clock.start()

        self.doubleClicked.connect(self._on_double_clicked)

    def warm_up(self) -> None:
        """Pay PySide's one-off costs while the window sits idle, not inside the first Load.

        The first QWidget pointer PySide wraps (here: the viewport, which ``visible_rows`` reads) makes it
        initialise the binding of every QWidget subclass: ~20 ms, once per process, that would otherwise land
        inside the first ``PictureBrowser.start()``. The delegate loads the fonts captions will need.
        """
        self.viewport()
        self._delegate.warm_up(self.font())

    # -- tile size -------------------------------------------------------------------------------------
    def tile_size(self) -> int:
        return self._tile

    def set_tile_size(self, px: int) -> int:
        """Snap to a bucket and relayout; returns the size used."""
        size = snap_tile_size(px)
        if size != self._tile:
            self._tile = size
            self._delegate.set_tile_size(size)
            self._fit_cells()
            self._schedule_range()
        return size

    def _fit_cells(self) -> None:
        """Spread the columns over the whole width, as file managers do: the cells widen and the tiles keep
        their size, centred in them, instead of leaving an empty band at the right (up to a cell wide)."""
        cell = grid_cell_size(self._tile, self.fontMetrics())
        room = self._line_room()
        fitted = QSize(max(cell.width(), room // max(1, room // cell.width())), cell.height())
        if fitted != self.gridSize():
            self.setGridSize(fitted)

    def delegate(self) -> TileDelegate:
        return self._delegate

    def badge_clock_active(self) -> bool:
        return self._clock.isActive()

    def stop_clock(self) -> None:
        self._clock.stop()
        self._range_timer.stop()

    # -- visible range ---------------------------------------------------------------------------------
    def columns(self) -> int:
        return max(1, self._line_room() // max(1, self.gridSize().width()))

    def _line_room(self) -> int:
        """The width a line of cells may fill: Qt wraps a cell that would reach the viewport's last pixel,
        and lays out for the vertical scroll bar before it is shown (then the viewport narrows)."""
        room = self.viewport().width() - 2 * self.spacing() - 1
        bar, model = self.verticalScrollBar(), self.model()
        if not bar.isVisible() and model is not None and self.gridSize().height() > 0:
            lines = -(-model.rowCount() // max(1, room // max(1, self.gridSize().width())))
            if lines * self.gridSize().height() > self.viewport().height():
                room -= self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, bar)
        return room

    def visible_rows(self) -> tuple[range, range]:
        """(visible rows, visible rows widened by the prefetch margin), in view (proxy) order.

        O(1): two ``indexAt`` probes and the fixed cell geometry, whatever the number of rows.
        """
        model = self.model()
        count = model.rowCount() if model is not None else 0
        if count == 0:
            return range(0), range(0)
        grid = self.gridSize()
        cols = self.columns()
        x = self.spacing() + grid.width() // 2
        height = self.viewport().height()
        first_index = self.indexAt(QPoint(x, 1))
        if first_index.isValid():
            first = first_index.row() - first_index.row() % cols
        else:  # between lines, or layout not done yet: derive it from the scroll offset
            first = (max(0, self.verticalOffset()) // max(1, grid.height())) * cols
        lines = -(-max(1, height) // max(1, grid.height())) + 1
        last_index = self.indexAt(QPoint(x, max(1, height - 1)))
        if last_index.isValid():
            last = last_index.row() - last_index.row() % cols + cols - 1
        else:
            last = first + lines * cols - 1
        first = min(max(0, first), count - 1)
        last = min(max(first, last), count - 1)
        margin = PREFETCH_LINES * cols
        return range(first, last + 1), range(max(0, first - margin), min(count, last + 1 + margin))

    @Slot()
    def _schedule_range(self) -> None:
        if not self._range_timer.isActive():
            self._range_timer.start()

    def schedule_range_update(self) -> None:
        """Recompute the visible range soon (after a model change the view cannot see)."""
        self._schedule_range()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_cells()
        self._schedule_range()

    def rowsInserted(self, parent: QModelIndex, start: int, end: int) -> None:  # type: ignore[override]
        super().rowsInserted(parent, start, end)
        self._fit_cells()  # the rows may call for the scroll bar, which Qt lays out for before showing it
        self._schedule_range()

    def reset(self) -> None:
        super().reset()
        self._fit_cells()
        self._schedule_range()

    def doItemsLayout(self) -> None:
        super().doItemsLayout()
        self._schedule_range()

    @Slot()
    def _on_tick(self) -> None:
        if self.isVisible():
            self.viewport().update()  # the delegate recomputes every visible badge from the clock
        self.ticked.emit()

    # -- keys and mouse --------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) or (
            key == Qt.Key.Key_Space and mods == Qt.KeyboardModifier.NoModifier
        ):
            current = self.currentIndex()
            if current.isValid():
                if not self.selectionModel().isSelected(current):
                    self.selectionModel().select(current, QItemSelectionModel.SelectionFlag.ClearAndSelect)
                self.previewRequested.emit(current)
                event.accept()
                return
        if key == Qt.Key.Key_F5 or event.matches(QKeySequence.StandardKey.Refresh):
            self.retryRequested.emit()
            event.accept()
            return
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copyRequested.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    @Slot(QModelIndex)
    def _on_double_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.previewRequested.emit(index)

    # -- drag out --------------------------------------------------------------------------------------
    def set_drag_provider(self, provider: Callable[[], QMimeData | None] | None) -> None:
        """``provider`` makes the drag's data (file URLs) for the current selection, or None to refuse."""
        self._drag_provider = provider

    def startDrag(self, supportedActions: Qt.DropAction) -> None:
        provider = self._drag_provider
        if provider is None:
            return
        mime = provider()
        if mime is None:
            return
        drag = QDrag(self)
        drag.setMimeData(mime)
        pixmap = self.currentIndex().data(PixmapRole)
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            drag.setPixmap(pixmap.scaled(96, 96, Qt.AspectRatioMode.KeepAspectRatio))
        drag.exec(Qt.DropAction.CopyAction)

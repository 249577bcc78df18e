"""A larger look at one picture: fit / 100 % / wheel zoom, previous/next, details with a live time left.

The full picture is fetched and decoded off the GUI thread (the thumbnail loader's pool); the dialog shows a
"Loading…" placeholder meanwhile and ignores answers for pictures the user has already moved past.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QAbstractItemModel, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QPainter, QPixmap, QShortcut, QWheelEvent
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.units import format_size
from kdocs_viewer.gui.i18n import tag_label
from kdocs_viewer.gui.picture_model import ItemRole, PicState, PictureItem
from kdocs_viewer.gui.thumbnails import FullImage, ThumbnailLoader
from kdocs_viewer.gui.tile_delegate import badge_text

ZOOM_STEP = 1.25
MIN_ZOOM, MAX_ZOOM = 0.02, 32.0


def format_bytes(count: int | None) -> str:
    return "—" if count is None else format_size(count)


class ImageView(QGraphicsView):
    """Shows one pixmap; fits to the window until the user zooms."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._item)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._fit = True

    def set_pixmap(self, pixmap: QPixmap | None) -> None:
        self._item.setPixmap(pixmap if pixmap is not None else QPixmap())
        self.scene().setSceneRect(self._item.boundingRect())
        if self._fit:
            self.fit()

    def has_pixmap(self) -> bool:
        return not self._item.pixmap().isNull()

    def zoom(self) -> float:
        return self.transform().m11()

    def is_fit(self) -> bool:
        return self._fit

    def fit(self) -> None:
        self._fit = True
        if self.has_pixmap():
            self.resetTransform()
            self.fitInView(self._item, Qt.AspectRatioMode.KeepAspectRatio)
            if self.zoom() > 1.0:  # small pictures are shown at their size, not blown up
                self.resetTransform()

    def actual_size(self) -> None:
        self._fit = False
        self.resetTransform()

    def zoom_by(self, factor: float) -> None:
        self._fit = False
        target = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom() * factor))
        scale = target / self.zoom() if self.zoom() else 1.0
        self.scale(scale, scale)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(ZOOM_STEP**steps)
            event.accept()
        else:
            super().wheelEvent(event)

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        if self._fit:
            self.fit()


class PreviewDialog(QDialog):
    """Non-modal preview over the browser's current (filtered, sorted) order."""

    currentChanged = Signal(object)  # PicRef | None: the browser pins its lease while shown

    def __init__(
        self, model: QAbstractItemModel, loader: ThumbnailLoader, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Preview"))
        self.setObjectName("PreviewDialog")
        self.resize(900, 640)
        self._model = model
        self._loader: ThumbnailLoader | None = loader
        self._row = -1
        self._ref: PicRef | None = None
        self._request = 0
        self._full: FullImage | None = None

        self._view = ImageView(self)
        self._status = QLabel(self)
        self._status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._status.setWordWrap(True)
        self._status.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        self._prev = QPushButton(self.tr("◀ Previous"), self)
        self._next = QPushButton(self.tr("Next ▶"), self)
        self._fit_button = QPushButton(self.tr("Fit"), self)
        self._actual = QPushButton(self.tr("100 %"), self)
        self._zoom_in = QPushButton(self.tr("Zoom in"), self)
        self._zoom_out = QPushButton(self.tr("Zoom out"), self)
        self._position = QLabel(self)
        for button in (self._prev, self._next, self._fit_button, self._actual, self._zoom_in, self._zoom_out):
            button.setAutoDefault(False)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._prev.clicked.connect(self.show_previous)
        self._next.clicked.connect(self.show_next)
        self._fit_button.clicked.connect(self._view.fit)
        self._actual.clicked.connect(self._view.actual_size)
        self._zoom_in.clicked.connect(self._on_zoom_in)
        self._zoom_out.clicked.connect(self._on_zoom_out)

        self._details: dict[str, QLabel] = {}
        form = QFormLayout()
        labels = {
            "key": self.tr("Key"),
            "tag": self.tr("Tag"),
            "cell": self.tr("Cell"),
            "caption": self.tr("Caption"),
            "format": self.tr("Format"),
            "pixels": self.tr("Pixel size"),
            "bytes": self.tr("Size"),
            "left": self.tr("Time left"),
        }
        for key, text in labels.items():
            value = QLabel(self)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(True)
            value.setObjectName(f"detail_{key}")
            self._details[key] = value
            form.addRow(text, value)
        details = QWidget(self)
        details.setLayout(form)
        details.setMinimumWidth(220)

        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self._view, 1)
        left_layout.addWidget(self._status)
        splitter = QSplitter(self)
        splitter.addWidget(left)
        splitter.addWidget(details)
        splitter.setStretchFactor(0, 1)

        buttons = QHBoxLayout()
        for widget in (self._prev, self._next):
            buttons.addWidget(widget)
        buttons.addWidget(self._position)
        buttons.addStretch(1)
        for widget in (self._zoom_out, self._zoom_in, self._fit_button, self._actual):
            buttons.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)

        for keys, slot in (
            ((Qt.Key.Key_Left, Qt.Key.Key_PageUp, Qt.Key.Key_Backspace), self.show_previous),
            ((Qt.Key.Key_Right, Qt.Key.Key_PageDown, Qt.Key.Key_Space), self.show_next),
        ):
            for qt_key in keys:
                shortcut = QShortcut(QKeySequence(qt_key), self)
                shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                shortcut.activated.connect(slot)
        for sequence, slot in (
            (QKeySequence.StandardKey.ZoomIn, self._on_zoom_in),
            (QKeySequence.StandardKey.ZoomOut, self._on_zoom_out),
        ):
            QShortcut(sequence, self).activated.connect(slot)
        QShortcut(QKeySequence(Qt.Key.Key_0), self).activated.connect(self._view.fit)
        QShortcut(QKeySequence(Qt.Key.Key_1), self).activated.connect(self._view.actual_size)

        loader.fullImageReady.connect(self._on_full_image)

    # -- navigation ------------------------------------------------------------------------------------
    def current_row(self) -> int:
        return self._row

    def current_ref(self) -> PicRef | None:
        return self._ref

    def image_view(self) -> ImageView:
        return self._view

    def detail_text(self, key: str) -> str:
        return self._details[key].text()

    def is_loading(self) -> bool:
        return self._request != 0

    def show_row(self, row: int) -> None:
        """Show the picture at ``row`` of the model (the browser's proxy order)."""
        count = self._model.rowCount()
        if not 0 <= row < count:
            return
        item = self._model.index(row, 0).data(ItemRole)
        if not isinstance(item, PictureItem):
            return
        self._row = row
        same = self._ref is not None and self._ref.ident == item.ref.ident and self._full is not None
        self._ref = item.ref
        self._prev.setEnabled(row > 0)
        self._next.setEnabled(row < count - 1)
        self._position.setText(self.tr("%1 of %2").replace("%1", str(row + 1)).replace("%2", str(count)))
        self.setWindowTitle(self.tr("Preview — %1").replace("%1", item.ref.label()))
        self._fill_details(item)
        self.currentChanged.emit(item.ref)
        if not same:
            self._load(item)

    @Slot()
    def show_previous(self) -> None:
        self.show_row(self._row - 1)

    @Slot()
    def show_next(self) -> None:
        self.show_row(self._row + 1)

    def row_moved(self, row: int) -> None:
        """The browser re-sorted/filtered: keep showing the same picture at its new row (-1 when gone)."""
        if row < 0:
            self.close()
        else:
            self._row = row
            count = self._model.rowCount()
            self._prev.setEnabled(row > 0)
            self._next.setEnabled(row < count - 1)

    # -- loading ---------------------------------------------------------------------------------------
    def _load(self, item: PictureItem) -> None:
        loader = self._loader
        if self._request and loader is not None:
            loader.cancel_full(self._request)
        self._full = None
        self._view.set_pixmap(None)
        if item.state is PicState.FAILED:
            self._request = 0
            self._status.setText(self.tr("Cannot show this picture: %1").replace("%1", item.error))
            return
        self._status.setText(self.tr("Loading…"))
        self._request = loader.request_full(item.ref) if loader is not None else 0

    @Slot(object)
    def _on_full_image(self, full: FullImage) -> None:
        if full.request_id != self._request:
            return
        self._request = 0
        self._full = full
        if full.image is None:
            self._status.setText(self.tr("Cannot show this picture: %1").replace("%1", full.error))
            return
        self._status.setText("")
        self._view.set_pixmap(QPixmap.fromImage(full.image))
        self._details["format"].setText(full.image_format.upper())
        w, h = full.pixel_size
        self._details["pixels"].setText(f"{w} × {h}")
        self._details["bytes"].setText(format_bytes(full.byte_count))

    def _fill_details(self, item: PictureItem) -> None:
        ref = item.ref
        d = self._details
        d["key"].setText(ref.pic_key)
        d["tag"].setText(tag_label(ref.tag))
        d["cell"].setText(ref.cell or "—")
        d["caption"].setText(ref.caption or "—")
        d["format"].setText(item.image_format.upper() or "—")
        d["pixels"].setText(f"{item.pixel_size[0]} × {item.pixel_size[1]}" if item.pixel_size else "—")
        d["bytes"].setText(format_bytes(item.byte_count))
        self._update_time_left()

    @Slot()
    def tick(self) -> None:
        """The browser's one 1 Hz clock: refresh the live time left."""
        if self.isVisible():
            self._update_time_left()

    def _update_time_left(self) -> None:
        if self._row < 0 or self._row >= self._model.rowCount():
            return
        item = self._model.index(self._row, 0).data(ItemRole)
        if not isinstance(item, PictureItem):
            return
        text = badge_text(item.lease, time.monotonic()).text
        self._details["left"].setText(text or self.tr("not resolved yet"))

    @Slot()
    def _on_zoom_in(self) -> None:
        self._view.zoom_by(ZOOM_STEP)

    @Slot()
    def _on_zoom_out(self) -> None:
        self._view.zoom_by(1 / ZOOM_STEP)

    # -- lifetime --------------------------------------------------------------------------------------
    def detach(self) -> None:
        """The session is going away: cancel the pending decode and forget the loader."""
        if self._loader is not None:
            if self._request:
                self._loader.cancel_full(self._request)
            self._loader.fullImageReady.disconnect(self._on_full_image)
        self._loader = None
        self._request = 0

    def done(self, result: int) -> None:
        if self._request and self._loader is not None:
            self._loader.cancel_full(self._request)
        self._request = 0
        self.currentChanged.emit(None)
        super().done(result)

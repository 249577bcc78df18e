"""A larger look at one picture: fit / 100 % / wheel zoom with a % readout, rotate (for viewing only, never
saved), previous/next, full screen, Save… and Copy, details with a live time left.

The full picture is fetched and decoded off the GUI thread (the thumbnail loader's pool); the dialog shows a
"Loading…" placeholder meanwhile and ignores answers for pictures the user has already moved past.
"""

from __future__ import annotations

import time

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractItemModel,
    QCoreApplication,
    QRect,
    QRectF,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QAction,
    QGuiApplication,
    QKeySequence,
    QPainter,
    QPixmap,
    QWheelEvent,
)
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
from kdocs_viewer.gui.tile_delegate import badge_text, checkerboard_brush

ZOOM_STEP = 1.25
MIN_ZOOM, MAX_ZOOM = 0.02, 32.0

Keys = tuple[str | QKeySequence.StandardKey, ...]
# (object name, text, keys, slot of PreviewDialog): the preview's actions and what Help → Keyboard shortcuts
# lists for it, from one table.
PREVIEW_ACTIONS: tuple[tuple[str, str, Keys, str], ...] = (
    (
        "previewPrevious",
        str(QT_TRANSLATE_NOOP("PreviewDialog", "Previous picture")),
        ("Left", "PgUp", "Backspace"),
        "show_previous",
    ),
    (
        "previewNext",
        str(QT_TRANSLATE_NOOP("PreviewDialog", "Next picture")),
        ("Right", "PgDown", "Space"),
        "show_next",
    ),
    (
        "previewZoomIn",
        str(QT_TRANSLATE_NOOP("PreviewDialog", "Zoom in")),
        (QKeySequence.StandardKey.ZoomIn,),
        "_on_zoom_in",
    ),
    (
        "previewZoomOut",
        str(QT_TRANSLATE_NOOP("PreviewDialog", "Zoom out")),
        (QKeySequence.StandardKey.ZoomOut,),
        "_on_zoom_out",
    ),
    ("previewFit", str(QT_TRANSLATE_NOOP("PreviewDialog", "Fit")), ("0",), "fit"),
    ("previewActualSize", str(QT_TRANSLATE_NOOP("PreviewDialog", "100 %")), ("1",), "actual_size"),
    ("previewRotateLeft", str(QT_TRANSLATE_NOOP("PreviewDialog", "Rotate left")), ("L",), "rotate_left"),
    ("previewRotateRight", str(QT_TRANSLATE_NOOP("PreviewDialog", "Rotate right")), ("R",), "rotate_right"),
    ("previewSave", str(QT_TRANSLATE_NOOP("PreviewDialog", "Save…")), ("Ctrl+S",), "_on_save"),
    ("previewCopy", str(QT_TRANSLATE_NOOP("PreviewDialog", "Copy image")), ("Ctrl+C",), "_on_copy"),
    (
        "previewFullScreen",
        str(QT_TRANSLATE_NOOP("PreviewDialog", "Full screen")),
        ("F11",),
        "toggle_full_screen",
    ),
)


def key_sequences(keys: Keys) -> list[QKeySequence]:
    sequences: list[QKeySequence] = []
    for key in keys:
        if isinstance(key, QKeySequence.StandardKey):
            sequences += QKeySequence.keyBindings(key)
        else:
            sequences.append(QKeySequence(key))
    return sequences


def preview_shortcuts() -> list[tuple[str, str]]:
    """(text, keys) of every preview action, translated, without making a preview."""
    native = QKeySequence.SequenceFormat.NativeText
    return [
        (
            QCoreApplication.translate("PreviewDialog", text),
            ", ".join(seq.toString(native) for seq in key_sequences(keys)),
        )
        for _, text, keys, _ in PREVIEW_ACTIONS
    ]


def format_bytes(count: int | None) -> str:
    return "—" if count is None else format_size(count)


class ImageView(QGraphicsView):
    """Shows one pixmap; fits to the window until the user zooms. ``zoomChanged`` carries the scale (1.0 is
    one picture pixel per logical px)."""

    zoomChanged = Signal(float)

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
        """Show ``pixmap`` upright (a new picture starts unrotated)."""
        self._item.setPixmap(pixmap if pixmap is not None else QPixmap())
        self._item.setRotation(0)
        self._item.setTransformOriginPoint(self._item.boundingRect().center())
        self._after_geometry()

    def rotation(self) -> int:
        """Degrees clockwise, 0/90/180/270."""
        return round(self._item.rotation()) % 360

    def rotate_by(self, degrees: int) -> None:
        """Turn the picture on screen (quarter turns); the file and the clipboard copy stay as they are."""
        self._item.setRotation((self.rotation() + degrees) % 360)
        self._after_geometry()

    def _after_geometry(self) -> None:
        self.scene().setSceneRect(self._item.sceneBoundingRect())
        if self._fit:
            self.fit()
        else:
            self.zoomChanged.emit(self.zoom())

    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        super().drawBackground(painter, rect)
        pixmap = self._item.pixmap()
        if pixmap.isNull() or not pixmap.hasAlphaChannel():
            return
        # In viewport pixels, so the squares keep their size whatever the zoom.
        area = self.mapFromScene(self._item.sceneBoundingRect()).boundingRect()
        painter.save()
        painter.resetTransform()
        painter.fillRect(area, checkerboard_brush())
        painter.restore()

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
        self.zoomChanged.emit(self.zoom())

    def actual_size(self) -> None:
        self._fit = False
        self.resetTransform()
        self.zoomChanged.emit(self.zoom())

    def zoom_by(self, factor: float) -> None:
        self._fit = False
        target = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom() * factor))
        scale = target / self.zoom() if self.zoom() else 1.0
        self.scale(scale, scale)
        self.zoomChanged.emit(self.zoom())

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
    saveRequested = Signal(object)  # list[PicRef]: Save… (Ctrl+S) for the picture shown
    noted = Signal(str)  # a passing remark for the main window's status bar ("Picture copied")

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
        self._rotate_left = QPushButton("⟲", self)
        self._rotate_left.setObjectName("rotateLeft")
        self._rotate_right = QPushButton("⟳", self)
        self._rotate_right.setObjectName("rotateRight")
        for rotate in (self._rotate_left, self._rotate_right):  # a symbol: no need for a text button's width
            metrics = rotate.fontMetrics()
            rotate.setMaximumWidth(metrics.horizontalAdvance("⟳") + 3 * metrics.height())
        self._zoom_label = QLabel(self)
        self._zoom_label.setObjectName("zoomLevel")
        self._zoom_label.setMinimumWidth(self._zoom_label.fontMetrics().horizontalAdvance("3200 %") + 8)
        self._zoom_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._position = QLabel(self)
        for button in (
            self._prev,
            self._next,
            self._fit_button,
            self._actual,
            self._zoom_in,
            self._zoom_out,
            self._rotate_left,
            self._rotate_right,
        ):
            button.setAutoDefault(False)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._prev.clicked.connect(self.show_previous)
        self._next.clicked.connect(self.show_next)
        self._fit_button.clicked.connect(self._view.fit)
        self._actual.clicked.connect(self._view.actual_size)
        self._zoom_in.clicked.connect(self._on_zoom_in)
        self._zoom_out.clicked.connect(self._on_zoom_out)
        self._rotate_left.clicked.connect(self.rotate_left)
        self._rotate_right.clicked.connect(self.rotate_right)
        self._view.zoomChanged.connect(self._on_zoom_changed)

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
        tools: tuple[QWidget, ...] = (
            self._rotate_left,
            self._rotate_right,
            self._zoom_label,
            self._zoom_out,
            self._zoom_in,
            self._fit_button,
            self._actual,
        )
        for tool in tools:
            buttons.addWidget(tool)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)

        self._build_actions()

        loader.fullImageReady.connect(self._on_full_image)

    def _build_actions(self) -> None:
        """Every key of the preview is a QAction of the dialog, made from ``PREVIEW_ACTIONS`` (which the
        shortcuts dialog lists too); they work while the preview has the focus, so Ctrl+S / Ctrl+C here act
        on the picture shown and the main window's act on the grid."""
        self.preview_actions: dict[str, QAction] = {}
        for name, text, keys, slot in PREVIEW_ACTIONS:
            action = QAction(self.tr(text), self)
            action.setObjectName(name)
            action.setShortcuts(key_sequences(keys))
            action.triggered.connect(getattr(self, slot))
            self.addAction(action)
            self.preview_actions[name] = action
        self.save_action = self.preview_actions["previewSave"]
        self.copy_action = self.preview_actions["previewCopy"]
        self.full_screen_action = self.preview_actions["previewFullScreen"]
        self.full_screen_action.setCheckable(True)
        for button, name in (
            (self._rotate_left, "previewRotateLeft"),
            (self._rotate_right, "previewRotateRight"),
        ):
            action = self.preview_actions[name]
            shown = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            button.setToolTip(f"{action.text()} ({shown})")

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
    def fit(self) -> None:
        self._view.fit()

    @Slot()
    def actual_size(self) -> None:
        self._view.actual_size()

    @Slot()
    def rotate_left(self) -> None:
        self._view.rotate_by(-90)

    @Slot()
    def rotate_right(self) -> None:
        self._view.rotate_by(90)

    @Slot()
    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()
        self.full_screen_action.setChecked(self.isFullScreen())

    def zoom_text(self) -> str:
        return self._zoom_label.text()

    @Slot(float)
    def _on_zoom_changed(self, zoom: float) -> None:
        self._zoom_label.setText(self.tr("%1 %").replace("%1", str(round(zoom * 100))))

    @Slot()
    def _on_save(self) -> None:
        if self._ref is not None:
            self.saveRequested.emit([self._ref])

    @Slot()
    def _on_copy(self) -> None:
        """The decoded picture is at hand: straight to the clipboard, unrotated (the picture as it is)."""
        full = self._full
        if full is None or full.image is None:
            self.noted.emit(self.tr("The picture is not loaded yet; copy it once it shows."))
            return
        QGuiApplication.clipboard().setImage(full.image)
        self.noted.emit(self.tr("Picture copied"))

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

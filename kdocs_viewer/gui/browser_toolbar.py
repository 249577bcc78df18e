"""``BrowserToolbar``: the row above the picture grid — filter box, "N of M shown", sheet, kind, sort, size.

It only shows choices and reports them by signals; ``PictureBrowser`` applies them to its filter proxy,
model and grid. Refilling a combo (a new workbook) sends no signal: the browser resets its filter itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QSlider, QWidget

from kdocs_viewer.core.models import PicRef
from kdocs_viewer.gui.i18n import tag_label
from kdocs_viewer.gui.picture_grid import TILE_BUCKETS
from kdocs_viewer.gui.picture_model import SortKey

FILTER_MIN_WIDTH = 160  # px: the filter box stays usable in a 640 px wide window


class BrowserToolbar(QWidget):
    """The browser's toolbar; see the module docstring."""

    filterTextChanged = Signal(str)
    tagChosen = Signal(object)  # str | None: the kind shown, None for all
    sheetChosen = Signal(object)  # str | None: the sheet shown, None for all
    sortChosen = Signal(object)  # SortKey (again when chosen again: "Time left" re-sorts)
    tileSizeChosen = Signal(int)  # px, one of TILE_BUCKETS

    def __init__(self, tile_size: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._toolbar = QHBoxLayout(self)
        self._toolbar.setContentsMargins(4, 4, 4, 0)
        self._filter = QLineEdit(self)
        self._filter.setObjectName("pictureFilter")
        self._filter.setPlaceholderText(self.tr("Filter by caption, cell or key"))
        self._filter.setClearButtonEnabled(True)
        self._filter.setMinimumWidth(FILTER_MIN_WIDTH)  # in a narrow window the combos give way, not this
        self._filter.textChanged.connect(self.filterTextChanged)
        self._shown_label = QLabel(self)  # "N of M shown" while a filter hides some
        self._shown_label.setObjectName("shownCount")
        self._shown_label.setVisible(False)
        self._sheet_combo = QComboBox(self)
        self._sheet_combo.setObjectName("sheetFilter")
        self._sheet_combo.setToolTip(self.tr("Show the pictures of one sheet only"))
        self._sheet_combo.addItem(self.tr("All sheets"), None)
        self._sheet_combo.setVisible(False)  # until pictures that name their sheet are shown
        self._sheet_combo.currentIndexChanged.connect(self._on_sheet_changed)
        self._tag_combo = QComboBox(self)
        self._tag_combo.setObjectName("tagFilter")
        self._tag_combo.setToolTip(self.tr("Show pictures of one kind only"))
        self._tag_combo.addItem(self.tr("All kinds"), None)
        self._tag_combo.currentIndexChanged.connect(self._on_tag_changed)
        self._sort_combo = QComboBox(self)
        self._sort_combo.setObjectName("sortOrder")
        self._sort_combo.setToolTip(self.tr("Sort order (choose “Time left” again to re-sort)"))
        self._sort_combo.addItem(self.tr("Workbook order"), SortKey.WORKBOOK.value)
        self._sort_combo.addItem(self.tr("Caption"), SortKey.CAPTION.value)
        self._sort_combo.addItem(self.tr("Time left"), SortKey.TIME_LEFT.value)
        self._sort_combo.activated.connect(self._on_sort_activated)
        self._size_slider = QSlider(Qt.Orientation.Horizontal, self)
        self._size_slider.setObjectName("tileSize")
        self._size_slider.setRange(0, len(TILE_BUCKETS) - 1)
        self._size_slider.setPageStep(1)
        self._size_slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self._size_slider.setMaximumWidth(160)
        self._size_slider.setMinimumWidth(60)
        for combo in (self._sheet_combo, self._tag_combo, self._sort_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(6)  # their items elide in a narrow window
        self._size_slider.setToolTip(self.tr("Tile size"))
        self._size_slider.setValue(TILE_BUCKETS.index(tile_size))
        self._size_slider.valueChanged.connect(self._on_slider)
        self._toolbar.addWidget(self._filter, 3)
        self._toolbar.addWidget(self._shown_label)
        self._toolbar.addWidget(self._sheet_combo, 1)
        self._toolbar.addWidget(self._tag_combo, 1)
        self._toolbar.addWidget(QLabel(self.tr("Sort:"), self))
        self._toolbar.addWidget(self._sort_combo, 1)
        self._toolbar.addWidget(QLabel(self.tr("Size:"), self))
        self._toolbar.addWidget(self._size_slider)

    def refill_tags(self, refs: Iterable[PicRef]) -> None:
        tags = sorted({ref.tag for ref in refs})
        self._tag_combo.blockSignals(True)
        self._tag_combo.clear()
        self._tag_combo.addItem(self.tr("All kinds"), None)
        for tag in tags:
            self._tag_combo.addItem(tag_label(tag), tag)
        self._tag_combo.blockSignals(False)

    def refill_sheets(self, refs: Iterable[PicRef]) -> None:
        """The sheets the pictures name, in workbook order; the combo shows only when there are some."""
        sheets = list(dict.fromkeys(ref.sheet for ref in refs if ref.sheet))
        self._sheet_combo.blockSignals(True)
        self._sheet_combo.clear()
        self._sheet_combo.addItem(self.tr("All sheets"), None)
        for sheet in sheets:
            self._sheet_combo.addItem(sheet, sheet)
        self._sheet_combo.blockSignals(False)
        self._sheet_combo.setVisible(bool(sheets))

    def show_count(self, shown: int, total: int, filtering: bool) -> None:
        """Say "N of M shown" while a filter hides some (``filtering``), else nothing."""
        if filtering:
            self._shown_label.setText(
                self.tr("%1 of %2 shown").replace("%1", str(shown)).replace("%2", str(total))
            )
        self._shown_label.setVisible(filtering)

    def set_tile_size(self, size: int) -> None:
        """Move the slider to ``size`` (one of TILE_BUCKETS) without sending ``tileSizeChosen``."""
        self._size_slider.blockSignals(True)
        self._size_slider.setValue(TILE_BUCKETS.index(size))
        self._size_slider.blockSignals(False)

    def step_tile_size(self, steps: int) -> None:
        """Bigger (+1) or smaller (-1) tiles by whole buckets, as the slider moves."""
        self._size_slider.setValue(self._size_slider.value() + steps)

    def focus_filter(self) -> None:
        """The filter box, its text selected so typing replaces it."""
        self._filter.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self._filter.selectAll()

    @Slot(int)
    def _on_tag_changed(self, index: int) -> None:
        tag = self._tag_combo.itemData(index)
        self.tagChosen.emit(tag if isinstance(tag, str) else None)

    @Slot(int)
    def _on_sheet_changed(self, index: int) -> None:
        sheet = self._sheet_combo.itemData(index)
        self.sheetChosen.emit(sheet if isinstance(sheet, str) else None)

    @Slot(int)
    def _on_sort_activated(self, index: int) -> None:
        self.sortChosen.emit(SortKey(self._sort_combo.itemData(index)))

    @Slot(int)
    def _on_slider(self, value: int) -> None:
        self.tileSizeChosen.emit(TILE_BUCKETS[max(0, min(value, len(TILE_BUCKETS) - 1))])

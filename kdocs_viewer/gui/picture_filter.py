"""The grid's filter: by text (caption, cell, sheet, key), tag and sheet, as Qt's own regular expression over
the model's ``FilterRole``; the order is the model's own (``PictureModel.sort_by``)."""

from __future__ import annotations

from PySide6.QtCore import QObject, QRegularExpression, QSortFilterProxyModel

from kdocs_viewer.gui.picture_model import (
    FILTER_SEPARATOR,
    FilterRole,
    PictureItem,
    PictureModel,
    SortKey,
    filter_field,
)

__all__ = ["PictureFilterProxy", "filter_expression"]


class PictureFilterProxy(QSortFilterProxyModel):
    """Filter by text (caption, cell, sheet, key), tag and sheet. Order is the source model's (``sort_by``).

    Not dynamic: a lease renewal must not reshuffle or hide rows under the user's pointer; the filter is
    re-applied when it changes.

    The filter is Qt's own (a regular expression over ``FilterRole``), not a Python ``filterAcceptsRow``: with
    no filter set Qt then accepts every row without calling Python, where the override costs ~15 ms per model
    reset of 10,000 rows. The expression means exactly ``accepts()``: the tag and the sheet equal (when one
    is chosen), and the casefolded text a substring of the row's casefolded search text.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setDynamicSortFilter(False)
        self.setFilterRole(FilterRole)
        self.setFilterKeyColumn(0)
        self._text = ""
        self._tag: str | None = None
        self._sheet: str | None = None

    def set_filter_text(self, text: str) -> None:
        text = text.strip().casefold()
        if text != self._text:
            self._refilter(text, self._tag, self._sheet)

    def set_tag(self, tag: str | None) -> None:
        if tag != self._tag:
            self._refilter(self._text, tag, self._sheet)

    def set_sheet(self, sheet: str | None) -> None:
        """Show the pictures of this sheet only (None: of every sheet)."""
        if sheet != self._sheet:
            self._refilter(self._text, self._tag, sheet)

    def _refilter(self, text: str, tag: str | None, sheet: str | None) -> None:
        self._text, self._tag, self._sheet = text, tag, sheet
        self.setFilterRegularExpression(filter_expression(text, tag, sheet))

    def sort_by(self, key: SortKey) -> None:
        """Convenience: sort the source model."""
        model = self.sourceModel()
        if isinstance(model, PictureModel):
            model.sort_by(key)

    def is_filtering(self) -> bool:
        """A text, a tag or a sheet is set (some rows may be hidden)."""
        return bool(self._text) or self._tag is not None or self._sheet is not None

    def accepts(self, item: PictureItem) -> bool:
        """The filter as a plain predicate (the proxy never reorders: view order = model order, filtered)."""
        if self._tag is not None and item.ref.tag != self._tag:
            return False
        if self._sheet is not None and (item.ref.sheet or "") != self._sheet:
            return False
        return not self._text or self._text in item.search_text


def filter_expression(text: str, tag: str | None, sheet: str | None = None) -> QRegularExpression:
    """The expression over ``FilterRole`` ("tag␟sheet␟search text") that accepts what ``accepts()`` accepts.

    Empty when nothing is filtered (Qt then accepts every row without asking the model). Anchored at the
    start, field by field, so the text never matches inside the tag or the sheet; the search text may hold
    line breaks.
    """
    if not text and tag is None and sheet is None:
        return QRegularExpression()
    sep = QRegularExpression.escape(FILTER_SEPARATOR)
    any_field = f"[^{sep}]*"

    def exactly(value: str | None) -> str:
        return any_field if value is None else QRegularExpression.escape(filter_field(value))

    pattern = "^" + exactly(tag) + sep + exactly(sheet) + sep
    if text:
        pattern += ".*" + QRegularExpression.escape(text)
    return QRegularExpression(pattern, QRegularExpression.PatternOption.DotMatchesEverythingOption)

"""The bar above the pictures: the open workbook's name, its file token, Find, and the ways to open another.

Widgets only: the input panel fills and reads them, the window gives the buttons their actions.
"""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from kdocs_viewer.gui.eliding_label import ElidingLabel

__all__ = ["WorkbookBar"]


class WorkbookBar(QWidget):
    """The workbook's name (``workbookName``), the file token field (``fileToken``), "Find pictures"
    (``findButton``), "Open workbook…" (``openWorkbookButton``), the pic-list toggle (``picListToggle``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("workbookBar")
        self.name_label = QLabel(self)
        self.name_label.setObjectName("workbookName")
        font = self.name_label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.name_label.setFont(font)
        # A long name must not widen the window: the label takes what is left and cuts the rest.
        self.name_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        token_label = ElidingLabel(self.tr("Workbook file token:"), self)  # narrow windows cut it
        self.file_token_edit = QLineEdit(self)
        self.file_token_edit.setObjectName("fileToken")
        self.file_token_edit.setPlaceholderText(self.tr("the id of the workbook, e.g. demo-workbook"))
        self.file_token_edit.setToolTip(
            self.tr(
                "The workbook's file token (its document id). A share link names the link, not the workbook: "
                "“Open workbook…” finds it by name."
            )
        )
        self.file_token_edit.setClearButtonEnabled(True)
        self.file_token_edit.setMinimumWidth(140)
        self.file_token_edit.setMaximumWidth(280)
        token_label.setBuddy(self.file_token_edit)

        self.find_button = QPushButton(self.tr("Find pictures in workbook"), self)
        self.find_button.setObjectName("findButton")
        self.find_button.setToolTip(self.tr("Read the workbook's cells and list every picture in it"))
        self.open_button = QPushButton(self.tr("Open workbook…"), self)
        self.open_button.setObjectName("openWorkbookButton")
        self.panel_button = QToolButton(self)
        self.panel_button.setObjectName("picListToggle")

        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 2)
        layout.addWidget(self.name_label, 1)
        layout.addWidget(token_label)
        layout.addWidget(self.file_token_edit)
        layout.addWidget(self.find_button)
        layout.addWidget(self.open_button)
        layout.addWidget(self.panel_button)
        self.show_workbook("", "")

    def set_actions(self, open_action: QAction, panel_action: QAction) -> None:
        """ "Open workbook…" and the pic-list toggle run these actions (and follow their state)."""
        self.open_button.setToolTip(open_action.toolTip())
        self.open_button.clicked.connect(open_action.trigger)
        self.panel_button.setDefaultAction(panel_action)

    def show_workbook(self, name: str, file_token: str) -> None:
        """The name when it is known; a hint when nothing is open; nothing when only a token is typed."""
        if name:
            self.name_label.setText(name)
            self.name_label.setToolTip(name)
            self.name_label.setEnabled(True)
        else:
            self.name_label.setText("" if file_token else self.tr("No workbook open"))
            self.name_label.setToolTip("")
            self.name_label.setEnabled(False)  # the hint in the disabled (grey) colour

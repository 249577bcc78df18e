"""The three dialogs of "Save selected…": choices, progress, summary.

``SaveDialog`` asks for the folder, the name template (validated live, with the first file name as a
preview) and what to do when a name is taken. ``SaveProgressDialog`` follows a ``SaveRunner`` (count, bytes,
speed) and cancels it. ``SaveSummaryDialog`` lists what was saved, skipped and failed (with reasons) and
offers "Retry failed". None of them touches the network or the disk themselves.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QCloseEvent, QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kdocs_viewer.core.eta import EtaEstimator
from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.saving import (
    DEFAULT_TEMPLATE,
    FIELDS,
    ConflictPolicy,
    SaveSummary,
    render_name,
    sniff_extension,
    validate_template,
)
from kdocs_viewer.core.units import format_size
from kdocs_viewer.gui import theme
from kdocs_viewer.gui.save_runner import SaveRunner, SaveStatus, describe
from kdocs_viewer.gui.tile_delegate import format_left

__all__ = ["SaveDialog", "SaveOptions", "SaveProgressDialog", "SaveSummaryDialog", "format_size"]


def _policy_labels() -> list[tuple[ConflictPolicy, str]]:
    return [
        (
            ConflictPolicy.SKIP_IDENTICAL,
            QCoreApplication.translate("SaveDialog", "Skip if identical, else keep both"),
        ),
        (
            ConflictPolicy.UNIQUIFY,
            QCoreApplication.translate("SaveDialog", "Always keep both (add a number)"),
        ),
        (ConflictPolicy.SKIP, QCoreApplication.translate("SaveDialog", "Skip the picture")),
        (ConflictPolicy.OVERWRITE, QCoreApplication.translate("SaveDialog", "Replace the existing file")),
    ]


@dataclass(frozen=True)
class SaveOptions:
    folder: Path
    template: str
    policy: ConflictPolicy


class SaveDialog(QDialog):
    """Where and how to save ``refs``. ``sample`` gives the first picture's bytes when cached (for the
    preview's extension)."""

    def __init__(
        self,
        refs: Sequence[PicRef],
        parent: QWidget | None = None,
        *,
        folder: str = "",
        template: str = "",
        policy: ConflictPolicy = ConflictPolicy.SKIP_IDENTICAL,
        sample: bytes | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Save selected pictures"))
        self.setMinimumWidth(560)
        self._refs = list(refs)
        ext = sniff_extension(sample) if sample else None
        self._preview_ext = ext or ".jpg"

        layout = QVBoxLayout(self)
        self.count_label = QLabel(self.tr("Pictures to save: %1").replace("%1", str(len(self._refs))))
        layout.addWidget(self.count_label)

        form = QFormLayout()
        folder_row = QHBoxLayout()
        self.folder_edit = QLineEdit(folder)
        self.folder_edit.setPlaceholderText(self.tr("Choose a folder"))
        browse = QPushButton(self.tr("&Browse…"))
        browse.clicked.connect(self._on_browse)
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)
        folder_label = QLabel(self.tr("&Folder:"))
        folder_label.setBuddy(self.folder_edit)  # a row holding a layout gets no buddy (and a literal "&")
        form.addRow(folder_label, folder_row)

        self.template_edit = QLineEdit(template or DEFAULT_TEMPLATE)
        form.addRow(self.tr("File &names:"), self.template_edit)
        fields = " ".join("{" + name + "}" for name in FIELDS)
        hint = QLabel(
            self.tr("Fields: %1 — the extension is added from the picture itself.").replace("%1", fields)
        )
        hint.setWordWrap(True)
        hint.setEnabled(False)
        form.addRow("", hint)
        self.preview_label = QLabel()
        self.preview_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.preview_label.setWordWrap(True)
        form.addRow(self.tr("First file:"), self.preview_label)

        self.policy_combo = QComboBox()
        for value, label in _policy_labels():
            self.policy_combo.addItem(label, value.value)
        self.policy_combo.setCurrentIndex(max(0, self.policy_combo.findData(policy.value)))
        form.addRow(self.tr("If a file &exists:"), self.policy_combo)
        layout.addLayout(form)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        self.folder_edit.textChanged.connect(self._update)
        self.template_edit.textChanged.connect(self._update)
        self._update()

    def set_folder(self, folder: str | Path) -> None:
        self.folder_edit.setText(str(folder))

    def options(self) -> SaveOptions:
        return SaveOptions(
            Path(self.folder_edit.text().strip()).expanduser(),
            self.template_edit.text(),
            ConflictPolicy(self.policy_combo.currentData()),
        )

    def template_error(self) -> str | None:
        try:
            validate_template(self.template_edit.text())
        except ValueError as exc:
            return str(exc)
        return None

    @Slot()
    def _update(self) -> None:
        error = self.template_error()
        if error is not None:
            self.preview_label.setText(self.tr("Invalid template: %1").replace("%1", error))
            self.preview_label.setStyleSheet(theme.error_text_style(self.preview_label))
        elif self._refs:
            name = render_name(self.template_edit.text(), self._refs[0], 1, self._preview_ext)
            self.preview_label.setText(name)
            self.preview_label.setStyleSheet("")
        else:
            self.preview_label.setText("")
        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        if save is not None:
            save.setEnabled(error is None and bool(self.folder_edit.text().strip()) and bool(self._refs))

    @Slot()
    def _on_browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, self.tr("Save pictures to"), self.folder_edit.text())
        if chosen:
            self.folder_edit.setText(chosen)


class SaveProgressDialog(QDialog):
    """Follows one ``SaveRunner``: "12 of 40", bytes, speed; Cancel (or Esc, or closing) cancels it."""

    def __init__(
        self,
        runner: SaveRunner,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Saving pictures"))
        self.setMinimumWidth(420)
        self._runner = runner
        total = len(runner.job.refs)
        layout = QVBoxLayout(self)
        self.count_label = QLabel(self.tr("Saved %1 of %2").replace("%1", "0").replace("%2", str(total)))
        self.bar = QProgressBar()
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(0)
        self.detail_label = QLabel(format_size(0))
        self.eta_label = QLabel("")
        self.eta_label.setObjectName("saveEta")
        self._eta = EtaEstimator(clock)
        self.folder_label = QLabel(str(runner.job.folder))
        self.folder_label.setEnabled(False)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        layout.addWidget(self.count_label)
        layout.addWidget(self.bar)
        layout.addWidget(self.detail_label)
        layout.addWidget(self.eta_label)
        layout.addWidget(self.folder_label)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        self.cancel_button.clicked.connect(self._on_cancel)
        runner.progressed.connect(self._on_progress)
        runner.finished.connect(self._on_finished)

    @Slot(object)
    def _on_progress(self, status: object) -> None:
        if not isinstance(status, SaveStatus):
            return
        self.bar.setMaximum(max(status.total, 1))
        self.bar.setValue(status.done)
        self.count_label.setText(
            self.tr("Saved %1 of %2").replace("%1", str(status.done)).replace("%2", str(status.total))
        )
        self.detail_label.setText(f"{format_size(status.bytes_done)} · {format_size(status.speed)}/s")
        self._eta.update(status.done)
        left = self._eta.seconds_left(status.done, status.total)
        self.eta_label.setText(
            self.tr("About %1 left").replace("%1", format_left(left)) if left is not None and left > 0 else ""
        )

    @Slot()
    def _on_cancel(self) -> None:
        self._runner.cancel()
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText(self.tr("Cancelling…"))

    @Slot(object)
    def _on_finished(self, _summary: object) -> None:
        super().accept()

    def reject(self) -> None:  # Esc: cancel, and close when the runner reports back
        if self._runner.is_running():
            self._on_cancel()
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._runner.is_running():
            self._on_cancel()
            event.ignore()
            return
        super().closeEvent(event)


class SaveSummaryDialog(QDialog):
    """What happened to each picture; "Retry failed" emits ``retryRequested``."""

    retryRequested = Signal()

    def __init__(self, summary: SaveSummary, folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Save finished"))
        self.setMinimumSize(560, 360)
        self._folder = folder
        layout = QVBoxLayout(self)
        counts = [
            self.tr("Saved: %1").replace("%1", str(len(summary.saved))),
            self.tr("Skipped: %1").replace("%1", str(len(summary.skipped))),
            self.tr("Failed: %1").replace("%1", str(len(summary.failed))),
        ]
        if summary.cancelled:
            counts.append(self.tr("Cancelled: %1").replace("%1", str(len(summary.cancelled))))
        self.headline = QLabel(" · ".join(counts) + f" · {format_size(summary.bytes)}")
        font = self.headline.font()
        font.setBold(True)
        self.headline.setFont(font)
        layout.addWidget(self.headline)
        folder_label = QLabel(self.tr("Folder: %1").replace("%1", str(folder)))
        folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        folder_label.setWordWrap(True)
        layout.addWidget(folder_label)

        self.list = QListWidget()
        self.list.setAlternatingRowColors(True)
        sections = [
            (self.tr("Failed"), summary.failed),
            (self.tr("Skipped"), summary.skipped),
            (self.tr("Cancelled"), summary.cancelled),
            (self.tr("Saved"), summary.saved),
        ]
        for title, results in sections:
            if not results:
                continue
            header = QListWidgetItem(title)
            header_font = header.font()
            header_font.setBold(True)
            header.setFont(header_font)
            header.setFlags(Qt.ItemFlag.NoItemFlags | Qt.ItemFlag.ItemIsEnabled)
            self.list.addItem(header)
            for result in results:
                self.list.addItem(QListWidgetItem("    " + describe(result)))
        layout.addWidget(self.list, 1)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.retry_button = QPushButton(self.tr("&Retry failed"))
        self.retry_button.setEnabled(bool(summary.failed))
        self.open_button = QPushButton(self.tr("&Open folder"))
        self.buttons.addButton(self.retry_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.rejected.connect(self.reject)
        self.retry_button.clicked.connect(self._on_retry)
        self.open_button.clicked.connect(self._on_open_folder)
        layout.addWidget(self.buttons)

    def lines(self) -> list[str]:
        """Every line of the list, for tests and for copying."""
        return [self.list.item(i).text().strip() for i in range(self.list.count())]

    @Slot()
    def _on_retry(self) -> None:
        self.accept()
        self.retryRequested.emit()

    @Slot()
    def _on_open_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._folder)))

"""The "Save selected…" / "Save all…" flow: the options dialog → a ``SaveRunner`` with its progress dialog →
the summary.

The pictures are saved through the browser's current session (its caches and leases: a viewed picture needs
no new download) and pinned there while the batch runs. "Retry failed" in the summary runs the same choices
again for the pictures that failed. The saving modules load at the first save, not at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QDialog, QWidget

from kdocs_viewer.core.models import PicRef
from kdocs_viewer.gui import settings as S
from kdocs_viewer.gui.browser import PictureBrowser
from kdocs_viewer.gui.settings import AppSettings

if TYPE_CHECKING:
    from kdocs_viewer.core.saving import Source
    from kdocs_viewer.gui.save_dialog import SaveProgressDialog, SaveSummaryDialog
    from kdocs_viewer.gui.save_runner import SaveJob, SaveRunner

__all__ = ["SaveController"]


class SaveController(QObject):
    """One save at a time for ``browser``'s pictures; dialogs belong to ``dialog_parent``.

    ``started`` carries the ``SaveRunner`` of a batch that began; ``saveFinished`` its ``SaveSummary`` (the
    summary dialog is open by then), or a ``str`` when the batch could not run at all (also shown as an
    error ``message``).
    """

    started = Signal(object)  # SaveRunner
    saveFinished = Signal(object)  # SaveSummary | str
    message = Signal(str, str)  # (kind, text) for the window's message area
    note = Signal(str)  # a passing remark for the status bar

    def __init__(
        self,
        browser: PictureBrowser,
        settings: AppSettings,
        dialog_parent: QWidget,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._browser = browser
        self._settings = settings
        self._dialog_parent = dialog_parent
        self._runner: SaveRunner | None = None
        self._progress: SaveProgressDialog | None = None
        self._last_summary: SaveSummaryDialog | None = None
        self._last_job: SaveJob | None = None
        self._last_failed: tuple[PicRef, ...] = ()
        self._closed = False

    def is_running(self) -> bool:
        return self._runner is not None and self._runner.is_running()

    @Slot()
    def save_selected(self) -> None:
        """Ask where and how, then save the selected pictures in the background."""
        refs = self._browser.selected_refs()
        if not refs:
            self.note.emit(self.tr("Select the pictures to save first."))
            return
        self.save_refs(refs)

    @Slot()
    def save_all(self) -> None:
        """"Save all…": every picture of the workbook, whatever the filter shows."""
        self.save_refs(self._browser.all_refs())

    @Slot(object)
    def save_refs(self, refs: list[PicRef]) -> None:
        """Ask where and how, then save ``refs`` in the background (the preview's Save… sends one)."""
        from kdocs_viewer.core.saving import ConflictPolicy  # saving's modules load at the first save
        from kdocs_viewer.gui.save_dialog import SaveDialog
        from kdocs_viewer.gui.save_runner import SaveJob, refs_in_order

        session = self._browser.session()
        if not refs or session is None:
            return
        if self.is_running():
            return
        policy_value = self._settings.get(S.CONFLICT_POLICY)
        policy = (
            ConflictPolicy(policy_value)
            if policy_value in set(ConflictPolicy)
            else ConflictPolicy.SKIP_IDENTICAL
        )
        dialog = SaveDialog(
            refs,
            self._dialog_parent,
            folder=self._settings.get(S.LAST_FOLDER),
            template=self._settings.get(S.TEMPLATE),
            policy=policy,
            sample=session.cached_bytes(refs[0]),
        )
        code = dialog.exec()
        options = dialog.options()
        dialog.deleteLater()
        if code != QDialog.DialogCode.Accepted.value:
            return
        self._settings.set(S.LAST_FOLDER, str(options.folder))
        self._settings.set(S.TEMPLATE, options.template)
        self._settings.set(S.CONFLICT_POLICY, options.policy.value)
        self.start(SaveJob(refs_in_order(refs), options.folder, options.template, options.policy))

    def start(self, job: SaveJob) -> SaveRunner | None:
        """Run ``job`` through the current session (its caches and leases); shows progress, then a summary.
        None when there is no session, nothing to save, or a save is running already."""
        session = self._browser.session()
        if session is None or not job.refs or self.is_running() or self._closed:
            return None
        from kdocs_viewer.gui.save_dialog import SaveProgressDialog
        from kdocs_viewer.gui.save_runner import SaveRunner

        def fetch(ref: PicRef, cancel: Any) -> Source:
            return session.fetch_for_save(ref, cancel=cancel)

        runner = SaveRunner(job, fetch, self._browser, on_saved=session.keep_saved, parent=self)
        runner.finished.connect(self._on_save_finished)
        self._runner = runner
        self._progress = SaveProgressDialog(runner, self._dialog_parent)
        self._progress.setWindowModality(Qt.WindowModality.WindowModal)
        self._progress.show()
        runner.start()
        self.started.emit(runner)
        return runner

    @Slot(object)
    def _on_save_finished(self, summary: object) -> None:
        runner = self._runner
        if self._progress is not None:
            self._progress.deleteLater()
            self._progress = None
        if self._closed or runner is None:
            return
        if isinstance(summary, str):
            self.message.emit("error", self.tr("Could not save: %1").replace("%1", summary))
            self.saveFinished.emit(summary)
            return
        from kdocs_viewer.core.saving import SaveSummary
        from kdocs_viewer.gui.save_dialog import SaveSummaryDialog
        from kdocs_viewer.gui.save_runner import failed_refs

        if not isinstance(summary, SaveSummary):
            return
        if self._last_summary is not None:
            self._last_summary.deleteLater()
        dialog = SaveSummaryDialog(summary, runner.job.folder, self._dialog_parent)
        dialog.setObjectName("saveSummary")
        dialog.retryRequested.connect(self._on_retry_failed)
        self._last_summary = dialog
        self._last_job = runner.job
        self._last_failed = tuple(failed_refs(summary))
        dialog.open()
        self.saveFinished.emit(summary)

    @Slot()
    def _on_retry_failed(self) -> None:
        job, failed = self._last_job, self._last_failed
        if job is None or not failed:
            return
        from kdocs_viewer.gui.save_runner import SaveJob

        self.start(SaveJob(failed, job.folder, job.template, job.policy))

    def cancel(self) -> None:
        """Ask a running batch to stop (its pictures end as "cancelled", no part file stays)."""
        self._closed = True
        if self._runner is not None:
            self._runner.cancel()

    def shutdown(self) -> None:
        """Cancel a running batch without waiting for it (a fetch on the wire can take as long as the server
        does; the batch still removes its part files before the process ends), close its progress dialog.
        Idempotent."""
        self.cancel()
        if self._runner is not None and self._runner.is_running():
            self._runner.detach()
        if self._progress is not None:
            self._progress.close()

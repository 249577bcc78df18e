"""Save selected…: the options dialog, byte-identical files, cancel without .part files, summary and retry."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QDialogButtonBox, QLabel
from pytestqt.qtbot import QtBot

from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.saving import DEFAULT_TEMPLATE, ConflictPolicy, SaveSummary
from kdocs_viewer.gui import settings as S
from kdocs_viewer.gui.main_window import MainWindow
from kdocs_viewer.gui.save_dialog import SaveDialog, SaveProgressDialog, SaveSummaryDialog, format_size
from kdocs_viewer.gui.save_runner import SaveJob, SaveRunner, SaveStatus
from tests.gui.shell_helpers import DemoWindow, FolderChooser, Ui
from tests.part_files import StuckWriter, part_files

pytest_plugins = ["tests.gui.shell_support"]  # keyring fixtures come from the root conftest


def _part_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".part")] if folder.exists() else []


def _wait_summary(window: MainWindow, qtbot: QtBot, start: Callable[[], object]) -> SaveSummaryDialog:
    """Run ``start`` and wait for the save's end; the summary dialog then on screen."""
    with qtbot.waitSignal(window.saver.saveFinished, timeout=15_000):
        start()
    return Ui(window).summary_dialog()


def test_save_selected_writes_byte_identical_files(
    demo_window: Callable[..., DemoWindow], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qtbot: QtBot
) -> None:
    demo = demo_window(pictures=6)
    window, browser = demo.window, demo.window.browser
    chosen = [r.ident for r in browser.all_refs()[1:5]]
    browser.select_refs(chosen)
    qtbot.waitUntil(window.save_action.isEnabled, timeout=3000)
    out = tmp_path / "out"
    chooser = FolderChooser(monkeypatch, out, template="{index:02d} {pic_key}")
    with qtbot.waitSignal(window.saver.started) as started:
        summary_dialog = _wait_summary(window, qtbot, window.save_action.trigger)
    assert chooser.calls == 1
    runner = started.args[0]
    assert isinstance(runner, SaveRunner)
    summary = runner.summary()
    assert isinstance(summary, SaveSummary)
    assert len(summary.saved) == 4 and not summary.failed
    for result in summary.saved:
        assert result.path is not None
        assert result.path.read_bytes() == demo.server.image_bytes(result.ref.pic_key)
        assert result.ref.pic_key in result.path.name
    assert sorted(p.name for p in out.iterdir()) == sorted(r.path.name for r in summary.saved if r.path)
    assert not _part_files(out)
    assert "Saved: 4" in summary_dialog.headline.text()
    assert not summary_dialog.retry_button.isEnabled()
    assert window.settings.get(S.LAST_FOLDER) == str(out)
    assert window.settings.get(S.TEMPLATE) == "{index:02d} {pic_key}"


def test_saving_the_same_pictures_twice_into_one_folder_keeps_one_file_each(
    demo_window: Callable[..., DemoWindow], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qtbot: QtBot
) -> None:
    """The dialog's default answer to "If a file exists" skips what is already saved with the same bytes."""
    demo = demo_window(pictures=6)
    window, browser = demo.window, demo.window.browser
    browser.select_refs([r.ident for r in browser.all_refs()[:4]])
    qtbot.waitUntil(window.save_action.isEnabled, timeout=3000)
    out = tmp_path / "out"
    FolderChooser(monkeypatch, out)  # the dialog as it opens: default policy
    _wait_summary(window, qtbot, window.save_action.trigger).close()
    first = sorted(p.name for p in out.iterdir())
    assert len(first) == 4
    with qtbot.waitSignal(window.saver.started) as started:
        _wait_summary(window, qtbot, window.save_action.trigger).close()
    summary = started.args[0].summary()
    assert isinstance(summary, SaveSummary) and len(summary.skipped) == 4 and not summary.saved
    assert sorted(p.name for p in out.iterdir()) == first
    assert window.settings.get(S.CONFLICT_POLICY) == ConflictPolicy.SKIP_IDENTICAL.value


UNIQUIFY = ConflictPolicy.UNIQUIFY


def test_saving_again_downloads_nothing_and_gives_ordinary_files(
    demo_window: Callable[..., DemoWindow], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qtbot: QtBot
) -> None:
    demo = demo_window(pictures=6)
    window, browser = demo.window, demo.window.browser
    refs = browser.all_refs()[:3]
    gets = [demo.server.image_gets(r.pic_key) for r in refs]
    first = window.saver.start(SaveJob(tuple(refs), tmp_path / "a", DEFAULT_TEMPLATE, UNIQUIFY))
    assert first is not None
    qtbot.waitUntil(lambda: first.summary() is not None, timeout=15_000)
    assert all(demo.server.image_gets(r.pic_key) <= max(1, n) for r, n in zip(refs, gets, strict=True))
    gets = [demo.server.image_gets(r.pic_key) for r in refs]
    second = window.saver.start(SaveJob(tuple(refs), tmp_path / "b", DEFAULT_TEMPLATE, UNIQUIFY))
    assert second is not None
    qtbot.waitUntil(lambda: second.summary() is not None, timeout=15_000)
    summary = second.summary()
    assert isinstance(summary, SaveSummary) and len(summary.saved) == 3
    assert [demo.server.image_gets(r.pic_key) for r in refs] == gets  # served by the session's caches
    umask = os.umask(0o022)
    os.umask(umask)
    for result in summary.saved:
        assert result.path is not None
        assert result.path.read_bytes() == demo.server.image_bytes(result.ref.pic_key)
        assert stat.S_IMODE(result.path.stat().st_mode) == 0o666 & ~umask  # not the cache's private 0600
    assert not _part_files(tmp_path)


def _uncached_on_a_slow_host(demo: DemoWindow, latency_ms: int) -> tuple[PicRef, ...]:
    """Pictures of the demo whose bytes are not cached yet (off screen), served ``latency_ms`` late from now
    on: a batch of them is still mid-flight a moment after it starts."""
    session = demo.window.browser.session()
    assert session is not None
    uncached = [r for r in demo.window.browser.all_refs() if session.cached_bytes(r) is None][-12:]
    assert len(uncached) >= 6
    demo.server.set_latency_ms(latency_ms)
    return tuple(uncached)


def test_cancel_leaves_no_part_file(
    demo_window: Callable[..., DemoWindow], tmp_path: Path, qtbot: QtBot
) -> None:
    demo = demo_window(pictures=30)
    window = demo.window
    uncached = _uncached_on_a_slow_host(demo, 400)  # the batch is mid-flight at cancel
    out = tmp_path / "out"
    with qtbot.waitSignal(window.saver.saveFinished, timeout=15_000):
        runner = window.saver.start(SaveJob(uncached, out, DEFAULT_TEMPLATE, ConflictPolicy.UNIQUIFY))
        assert runner is not None and runner.is_running()
        progress = window.findChild(SaveProgressDialog)
        assert progress is not None and progress.isVisible()
        qtbot.wait(250)
        progress.cancel_button.click()
        assert runner.cancelled()
        assert progress.cancel_button.text() == "Cancelling…"
    summary_dialog = Ui(window).summary_dialog()
    summary = runner.summary()
    assert isinstance(summary, SaveSummary)
    assert summary.cancelled, "the batch finished before the cancel: make the pictures slower"
    assert not _part_files(out)
    assert "Cancelled:" in summary_dialog.headline.text()
    for result in summary.saved:  # whatever finished before the cancel is complete
        assert result.path is not None
        assert result.path.read_bytes() == demo.server.image_bytes(result.ref.pic_key)


def test_closing_the_window_during_a_slow_save_does_not_wait_and_leaves_no_part_file(
    demo_window: Callable[..., DemoWindow], tmp_path: Path, qtbot: QtBot
) -> None:
    """Closing the window mid-save froze it until the picture host answered (up to 30 s): the close joined
    the batch. Now the window goes at once; the cancelled batch still removes its part files, and the
    process waits for that (the worker is not a daemon)."""
    demo = demo_window(pictures=30)
    window = demo.window
    uncached = _uncached_on_a_slow_host(demo, 1500)
    out = tmp_path / "out"
    runner = window.saver.start(SaveJob(uncached, out, DEFAULT_TEMPLATE, ConflictPolicy.UNIQUIFY))
    assert runner is not None
    qtbot.wait(200)  # its fetches are on the wire
    window.close()
    assert not window.isVisible() and not window.saver.is_running()
    assert not runner.wait(0), "the close waited for the save"
    worker = next(t for t in threading.enumerate() if t.name == "kdocs-save")
    assert not worker.daemon  # the process ends only after the batch has cleaned up
    assert runner.wait(15_000)
    assert not _part_files(out)
    for path in out.iterdir() if out.exists() else []:  # whatever was written is whole
        assert path.read_bytes() in {demo.server.image_bytes(r.pic_key) for r in uncached}


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL and flock")
def test_saving_removes_the_part_files_a_killed_save_left_and_only_those(
    demo_window: Callable[..., DemoWindow], tmp_path: Path, qtbot: QtBot
) -> None:
    demo = demo_window(pictures=6)
    window = demo.window
    out = tmp_path / "out"
    out.mkdir()
    others = [".notes.txt.part", "movie.mkv.part"]  # a user's, another program's
    for name in others:
        (out / name).write_bytes(name.encode())
    with StuckWriter(out, "live.jpg") as live:  # a save of another process, still writing
        killed = StuckWriter(out, "killed.jpg")
        killed.kill()  # its part file stays behind, held by nobody
        assert part_files(out) == sorted([killed.part.name, live.part.name, *others])
        refs = window.browser.all_refs()[:3]
        job = SaveJob(tuple(refs), out, DEFAULT_TEMPLATE, UNIQUIFY)
        runners: list[SaveRunner | None] = []
        _wait_summary(window, qtbot, lambda: runners.append(window.saver.start(job)))
        (runner,) = runners
        assert runner is not None
        summary = runner.summary()
        assert isinstance(summary, SaveSummary) and len(summary.saved) == 3
        assert part_files(out) == sorted([live.part.name, *others])
    for name in others:
        assert (out / name).read_bytes() == name.encode()
    for result in summary.saved:
        assert result.path is not None
        assert result.path.read_bytes() == demo.server.image_bytes(result.ref.pic_key)


def test_failed_pictures_are_listed_with_reasons_and_retried(
    demo_window: Callable[..., DemoWindow], tmp_path: Path, qtbot: QtBot
) -> None:
    demo = demo_window(pictures=6)
    window = demo.window
    good = demo.server.pictures()[0]
    missing = PicRef("NoSuchPictureKey000000", "attachment", caption="ghost")
    out = tmp_path / "out"
    job = SaveJob((good, missing), out, DEFAULT_TEMPLATE, ConflictPolicy.UNIQUIFY)
    first_runner: list[object] = []
    summary_dialog = _wait_summary(window, qtbot, lambda: first_runner.append(window.saver.start(job)))
    lines = summary_dialog.lines()
    assert "Failed" in lines and "Saved" in lines
    failed_line = next(line for line in lines if line.startswith("ghost"))
    assert ":" in failed_line and len(failed_line) > len("ghost: ")
    assert summary_dialog.retry_button.isEnabled()
    with qtbot.waitSignal(window.saver.started) as started:
        summary_dialog.retry_button.click()
    retry_runner = started.args[0]
    assert isinstance(retry_runner, SaveRunner) and retry_runner is not first_runner[0]
    assert retry_runner.job.refs == (missing,)
    assert retry_runner.job.folder == out
    qtbot.waitUntil(lambda: not retry_runner.is_running(), timeout=15_000)
    assert not _part_files(out)


def test_save_dialog_validates_the_template_and_previews_the_first_name(qtbot: QtBot, tmp_path: Path) -> None:
    refs = [PicRef("k1", "local", cell="Sheet1!B7", caption="Red cup")]
    dialog = SaveDialog(
        refs, folder=str(tmp_path), template="{index:03d} - {caption}", sample=b"\x89PNG\r\n\x1a\n"
    )
    qtbot.addWidget(dialog)
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    assert save is not None
    assert dialog.preview_label.text() == "001 - Red cup.png"
    assert save.isEnabled()
    dialog.template_edit.setText("{nope}")
    assert not save.isEnabled()
    assert dialog.preview_label.text().startswith("Invalid template:")
    dialog.template_edit.setText("{cell}")
    assert dialog.preview_label.text() == "B7.png"
    dialog.set_folder("")
    assert not save.isEnabled()
    dialog.set_folder(tmp_path)
    dialog.policy_combo.setCurrentIndex(dialog.policy_combo.findData("skip"))
    options = dialog.options()
    assert (
        options.folder == tmp_path and options.policy is ConflictPolicy.SKIP and options.template == "{cell}"
    )


class _Recorder(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.statuses: list[SaveStatus] = []

    @Slot(object)
    def record(self, status: object) -> None:
        assert isinstance(status, SaveStatus)
        self.statuses.append(status)


class _Pins:
    def __init__(self) -> None:
        self.calls: list[tuple[str, set[tuple[str, str]]]] = []

    def pin(self, owner: str, idents: set[tuple[str, str]]) -> None:
        self.calls.append((owner, set(idents)))


def test_runner_pins_while_saving_and_throttles_progress(qtbot: QtBot, tmp_path: Path) -> None:
    refs = tuple(PicRef(f"key{i:03d}", "local") for i in range(60))
    gate = threading.Event()

    def fetch(ref: PicRef, cancel: threading.Event | None) -> bytes:
        gate.wait(5)
        return b"\x89PNG\r\n\x1a\n" + ref.pic_key.encode()

    pins = _Pins()
    runner = SaveRunner(SaveJob(refs, tmp_path, "{pic_key}", ConflictPolicy.UNIQUIFY), fetch, pins, workers=8)
    recorder = _Recorder()
    runner.progressed.connect(recorder.record)
    with qtbot.waitSignal(runner.finished, timeout=10_000):
        runner.start()
        assert pins.calls == [("save", {r.ident for r in refs})]
        gate.set()
    assert pins.calls[-1] == ("save", set())
    assert runner.wait(1000)
    assert recorder.statuses[-1].done == 60 and recorder.statuses[-1].total == 60
    assert len(recorder.statuses) <= 12  # ≤ 10 Hz plus the final one, never one per picture
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{r.pic_key}.png" for r in refs)


def test_progress_dialog_shows_count_bytes_and_speed(qtbot: QtBot, tmp_path: Path) -> None:
    refs = tuple(PicRef(f"k{i}", "local") for i in range(10))
    runner = SaveRunner(SaveJob(refs, tmp_path, "{pic_key}", ConflictPolicy.UNIQUIFY), lambda r, c: b"")
    dialog = SaveProgressDialog(runner)
    qtbot.addWidget(dialog)
    runner.progressed.emit(SaveStatus(3, 10, 3 * 1024 * 1024, 2.0))
    assert dialog.count_label.text() == "Saved 3 of 10"
    assert dialog.bar.value() == 3
    assert dialog.detail_label.text() == "3.0 MB · 1.5 MB/s"
    assert format_size(532) == "532 B"


def test_progress_dialog_says_the_time_left_once_it_has_a_rate(qtbot: QtBot, tmp_path: Path) -> None:
    now = [50.0]
    refs = tuple(PicRef(f"k{i}", "local") for i in range(40))
    runner = SaveRunner(SaveJob(refs, tmp_path, "{pic_key}", ConflictPolicy.UNIQUIFY), lambda r, c: b"")
    dialog = SaveProgressDialog(runner, clock=lambda: now[0])
    qtbot.addWidget(dialog)
    eta = dialog.findChild(QLabel, "saveEta")
    assert eta is not None
    runner.progressed.emit(SaveStatus(1, 40, 1024, 0.1))
    assert eta.text() == ""  # one picture in 0.1 s says nothing yet
    for done in (2, 4, 6, 8, 10):  # two pictures a second
        now[0] += 1.0
        runner.progressed.emit(SaveStatus(done, 40, done * 1024, now[0] - 50.0))
    assert eta.text() == "About 0:15 left"
    runner.progressed.emit(SaveStatus(40, 40, 40 * 1024, 20.0))
    assert eta.text() == ""

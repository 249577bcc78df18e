"""What the window says about failures: chosen by reason code, with advice, and counts that add up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytestqt.qtbot import QtBot

from kdocs_viewer.core.api import KDocsClient
from kdocs_viewer.core.errors import FailureReason, KDocsError
from kdocs_viewer.core.models import PicFailure
from kdocs_viewer.core.session import PictureSession
from kdocs_viewer.gui.failure_text import advice, error_text
from kdocs_viewer.gui.lease_keeper import LeaseKeeper
from kdocs_viewer.gui.main_window import MainWindow
from kdocs_viewer.standin.server import StandinServer
from tests.gui.shell_helpers import TokenTyper, Ui

pytest_plugins = ["tests.gui.shell_support"]

MakeWindow = Callable[..., MainWindow]
NOT_FOUND_ADVICE = "Check the workbook's file token: no workbook has this one, or it is not shared with you."


def test_every_reason_but_cancelled_has_advice() -> None:
    assert {r for r in FailureReason if not advice(r)} == {FailureReason.CANCELLED}
    assert advice(None) == ""
    error = KDocsError("The KDocs API reported an error", reason=FailureReason.WORKBOOK_NOT_FOUND)
    assert error_text(error) == f"The KDocs API reported an error\n{NOT_FOUND_ADVICE}"
    assert error_text(ValueError("a bug")) == "a bug"


def test_a_wrong_file_token_counts_every_picture_without_a_link_once(
    qtbot: QtBot, standin_factory: Callable[..., StandinServer]
) -> None:
    """The background resolves 400 pictures per task: the line counts all pictures without a link so far
    (what the status bar counts), not the last task's 400."""
    server = standin_factory(pictures=900)
    refs = server.pictures()
    client = KDocsClient("demo-token", server.base_url)
    session = PictureSession(client, "no-such-workbook")
    keeper = LeaseKeeper(session)
    try:
        failures: list[PicFailure] = []
        keeper.leasesResolved.connect(lambda outcomes: failures.extend(outcomes))
        messages: list[str] = []
        keeper.errorOccurred.connect(messages.append)
        keeper.start(refs[:10], refs[10:])
        qtbot.waitUntil(lambda: len(failures) == 900, timeout=15_000)
        qtbot.waitUntil(lambda: len(messages) == 4, timeout=5000)  # 10, then 400, 400 and 90
    finally:
        keeper.shutdown()
        session.close()
        client.close()
    assert all(f.reason is FailureReason.WORKBOOK_NOT_FOUND for f in failures)
    counts = [int(m.split("No download link for ", 1)[1].split(" ", 1)[0]) for m in messages]
    assert counts == [10, 410, 810, 900]
    last = messages[-1]
    assert last.count("(code 20404") == 1 and "F5" in last
    assert last.endswith(f"\n{NOT_FOUND_ADVICE}")


def test_find_pictures_says_what_to_check(
    make_window: MakeWindow,
    standin_factory: Callable[..., StandinServer],
    monkeypatch: Any,
    qtbot: QtBot,
    no_keyring: Any,
) -> None:
    server = standin_factory(pictures=4)
    TokenTyper(monkeypatch, "demo-token", remember=False)
    ui = Ui(make_window(base_url=server.base_url))
    ui.file_token.setText("no-such-workbook")
    ui.find_button.click()
    qtbot.waitUntil(lambda: ui.message()[0] == "error", timeout=10_000)
    text = ui.message()[1]
    assert text.startswith("Could not list the workbook's pictures: ")
    assert text.count("(code 20404") == 1 and text.endswith(f"\n{NOT_FOUND_ADVICE}")

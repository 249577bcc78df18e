"""The strict-log plugin (tests/helpers/logfail.py) itself, run on a scratch test file in a child pytest.

A child process, not ``pytester.runpytest``: in-process, the child's records would also reach this
process' handler and fail this test.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent

SCRATCH = """
import logging
import threading

import pytest

log = logging.getLogger("kdocs_viewer.scratch")


def test_info_is_fine():
    log.info("just saying")


def test_unexpected_warning_fails():
    log.warning("disk is %s", "on fire")


def test_error_from_a_worker_thread_fails():
    worker = threading.Thread(target=lambda: log.error("worker gave up"), name="scratch-worker")
    worker.start()
    worker.join()


def test_expected_record_passes_and_is_collected(expect_log):
    with expect_log("kdocs_viewer", logging.WARNING, match="^disk") as records:
        log.warning("disk is %s", "full")
    assert [r.getMessage() for r in records] == ["disk is full"]


def test_expected_record_that_never_came_fails(expect_log):
    with expect_log("kdocs_viewer.scratch", logging.WARNING, match="disk"):
        log.info("disk is fine")


def test_expectation_is_for_one_level_and_regex(expect_log):
    with expect_log("kdocs_viewer.scratch", logging.WARNING, match="disk"):
        log.warning("disk is full")
        log.error("disk is gone")


def test_expectation_ends_with_its_block(expect_log):
    with expect_log("kdocs_viewer.scratch", logging.WARNING):
        log.warning("inside")
    log.warning("after the block")


@pytest.mark.logfail_ignore("kdocs_viewer.scratch", logging.WARNING, match="flaky", reason="random faults")
def test_marker_tolerates_matching_records():
    log.warning("a flaky link")


@pytest.mark.logfail_ignore("kdocs_viewer.scratch", logging.WARNING, match="flaky", reason="random faults")
def test_marker_tolerates_only_matching_records():
    log.warning("something else")


@pytest.mark.logfail_ignore("kdocs_viewer.scratch", logging.WARNING, match="x")
def test_marker_without_reason_is_refused():
    pass


@pytest.fixture
def noisy_teardown():
    yield
    log.warning("teardown trouble")


def test_record_in_teardown_is_an_error(noisy_teardown):
    pass


def test_a_failing_test_keeps_its_own_failure():
    log.warning("also logged")
    assert 1 == 2
"""


@pytest.fixture
def outcome(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.RunResult:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    pytester.makepyfile(test_scratch=SCRATCH)
    return pytester.runpytest_subprocess(
        "-p", "tests.helpers.logfail", "-p", "no:cacheprovider", "--strict-markers", "-rA", "-q"
    )


def test_logfail_plugin_judges_each_record(outcome: pytest.RunResult) -> None:
    text = outcome.stdout.str()
    status: dict[str, list[str]] = {}
    for line in outcome.outlines:
        found = re.match(r"(PASSED|FAILED|ERROR) test_scratch\.py::(\w+)", line)
        if found:
            status.setdefault(found[2], []).append(found[1])
    assert status == {
        "test_info_is_fine": ["PASSED"],
        "test_unexpected_warning_fails": ["FAILED"],
        "test_error_from_a_worker_thread_fails": ["FAILED"],
        "test_expected_record_passes_and_is_collected": ["PASSED"],
        "test_expected_record_that_never_came_fails": ["FAILED"],
        "test_expectation_is_for_one_level_and_regex": ["FAILED"],
        "test_expectation_ends_with_its_block": ["FAILED"],
        "test_marker_tolerates_matching_records": ["PASSED"],
        "test_marker_tolerates_only_matching_records": ["FAILED"],
        "test_marker_without_reason_is_refused": ["ERROR"],
        "test_record_in_teardown_is_an_error": ["PASSED", "ERROR"],  # the call passed, its teardown did not
        "test_a_failing_test_keeps_its_own_failure": ["FAILED"],
    }, text
    # The report names the logger, level, thread and message of each unexpected record.
    assert "WARNING kdocs_viewer.scratch [MainThread]" in text and ": disk is on fire" in text
    assert "ERROR kdocs_viewer.scratch [scratch-worker]" in text and "worker gave up" in text
    assert "ERROR kdocs_viewer.scratch [MainThread]" in text and "disk is gone" in text
    assert "after the block" in text and "teardown trouble" in text
    assert "expected a WARNING record from 'kdocs_viewer.scratch' matching 'disk'" in text
    assert "needs reason=" in text
    # A test that failed on its own keeps its assertion as the failure; the record is added to the report.
    assert "assert 1 == 2" in text and "Unexpected log records (call)" in text

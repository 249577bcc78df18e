"""Reason codes: every failure the core hands out says what kind it is, and each kind has one exit status."""

from __future__ import annotations

import pickle

import pytest

from kdocs_viewer.cli import EXIT_STATUS
from kdocs_viewer.core.download import DownloadCancelled, NotAPictureError, UrlExpiredError
from kdocs_viewer.core.errors import (
    ApiTransportError,
    FailureReason,
    InsecureTransportError,
    KDocsError,
    QuotaExceededError,
    TokenInvalidError,
    reason_of,
)
from kdocs_viewer.core.validation import InvalidBaseUrlError, InvalidIdentifierError, check_file_token

R = FailureReason


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (TokenInvalidError("t"), R.TOKEN_REJECTED),
        (QuotaExceededError("q"), R.QUOTA),
        (ApiTransportError("n"), R.NETWORK),
        (InsecureTransportError("i"), R.BAD_INPUT),
        (KDocsError("e"), R.SERVER_ERROR),
        (KDocsError("e", code=20404, reason=R.WORKBOOK_NOT_FOUND), R.WORKBOOK_NOT_FOUND),
        (InvalidIdentifierError("x"), R.BAD_INPUT),
        (InvalidBaseUrlError("x"), R.BAD_INPUT),
        (UrlExpiredError("x", status=403), R.EXPIRED_LINK),
        (NotAPictureError("x"), R.NOT_A_PICTURE),
        (DownloadCancelled(), R.CANCELLED),
        (ValueError("a bug, not a failure the core knows"), None),
    ],
)
def test_reason_of(error: BaseException, reason: FailureReason | None) -> None:
    assert reason_of(error) is reason


def test_a_refused_file_token_is_bad_input() -> None:
    with pytest.raises(InvalidIdentifierError) as info:
        check_file_token("a/b")
    assert reason_of(info.value) is R.BAD_INPUT


def test_an_api_error_keeps_its_reason_across_pickling() -> None:
    error = KDocsError("gone", code=20404, status=404, server_text="FileNotFound", reason=R.SERVER_ERROR)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.code, copy.status, copy.server_text, copy.reason) == (
        KDocsError, "gone", 20404, 404, "FileNotFound", R.SERVER_ERROR,
    )  # fmt: skip
    assert pickle.loads(pickle.dumps(TokenInvalidError("no"))).reason is R.TOKEN_REJECTED
    lost = KDocsError("gone", reason=R.WORKBOOK_NOT_FOUND)
    assert pickle.loads(pickle.dumps(lost)).reason is R.WORKBOOK_NOT_FOUND


def test_per_picture_reasons() -> None:
    assert {r for r in R if r.per_picture} == {
        R.PICTURE_NOT_FOUND, R.NOT_IN_REPLY, R.BAD_LINK, R.EXPIRED_LINK, R.NOT_A_PICTURE, R.TOO_LARGE,
    }  # fmt: skip


def test_every_reason_has_an_exit_status() -> None:
    assert set(EXIT_STATUS) == set(R)
    assert all(EXIT_STATUS[r] == 1 for r in R if r.per_picture)  # the other pictures were done
    named = (R.TOKEN_REJECTED, R.WORKBOOK_NOT_FOUND, R.BAD_INPUT, R.NETWORK, R.QUOTA, R.CANCELLED)
    assert [EXIT_STATUS[r] for r in named] == [3, 2, 2, 4, 4, 130]

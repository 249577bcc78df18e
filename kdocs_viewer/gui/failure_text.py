"""What the window tells the user about a failure, by its reason (``core.errors.FailureReason``): one table.

The core's message says what happened (already in the user's language, through ``core.i18n``); the table
adds what it means and what to do. Widgets decide by reason, never by reading message texts.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from kdocs_viewer.core.errors import FailureReason, reason_of
from kdocs_viewer.core.redact import redact

__all__ = ["advice", "error_text", "with_advice"]

R = FailureReason


def advice(reason: FailureReason | None) -> str:
    """What the user can do about a failure of this kind ("" when there is nothing to add)."""
    if reason is None:
        return ""
    table = {
        R.TOKEN_REJECTED: QCoreApplication.translate(
            "FailureText", "Enter a new access token (File → Set access token…)."
        ),
        R.QUOTA: QCoreApplication.translate(
            "FailureText", "Wait a while, or until the quota starts again tomorrow."
        ),
        R.WORKBOOK_NOT_FOUND: QCoreApplication.translate(
            "FailureText",
            "Check the workbook's file token: no workbook has this one, or it is not shared with you.",
        ),
        R.NETWORK: QCoreApplication.translate("FailureText", "Check the network connection."),
        R.SERVER_ERROR: QCoreApplication.translate(
            "FailureText", "The server had a problem: try again later."
        ),
        R.BAD_INPUT: QCoreApplication.translate("FailureText", "Correct the value and try again."),
        R.CANCELLED: "",
        R.PICTURE_NOT_FOUND: QCoreApplication.translate(
            "FailureText",
            "The workbook has no such picture: it was removed, or the list is for another workbook.",
        ),
        R.NOT_IN_REPLY: QCoreApplication.translate(
            "FailureText", "Ask again: the server left these pictures out."
        ),
        R.BAD_LINK: QCoreApplication.translate("FailureText", "Ask again for a new link."),
        R.EXPIRED_LINK: QCoreApplication.translate(
            "FailureText", "The link expired or was revoked: ask again for a new one."
        ),
        R.NOT_A_PICTURE: QCoreApplication.translate(
            "FailureText",
            "A login page or a network portal may be in the way: open any web page in a browser first.",
        ),
        R.TOO_LARGE: QCoreApplication.translate(
            "FailureText", "The picture is larger than the viewer accepts."
        ),
    }
    return table[reason]


def with_advice(text: str, reason: FailureReason | None) -> str:
    """``text``, then on its own line the advice for ``reason`` (if any)."""
    extra = advice(reason)
    return f"{text}\n{extra}" if extra else text


def error_text(exc: BaseException) -> str:
    """An exception of the core for people: its (redacted) message, then the advice for its reason."""
    return with_advice(redact(str(exc)) or type(exc).__name__, reason_of(exc))

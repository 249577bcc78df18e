"""What the input panel says about a pic list: loaded, duplicates, its problems, cells that were unreadable.

Apart from ``InputPanel`` so the wording (and its one rule for long lists of problems: the first five, then
"… and N more") changes in one place, while the panel keeps the flow.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication

from kdocs_viewer.core.redact import redact

if TYPE_CHECKING:
    from kdocs_viewer.core.piclist import ParseResult, PicListError

__all__ = ["file_error_text", "loaded_text", "parse_error_text", "unreadable_cells_text"]

SHOWN_PROBLEMS = 5


def _problem_lines(problems: Sequence[object]) -> list[str]:
    lines = [str(problem) for problem in problems[:SHOWN_PROBLEMS]]
    if len(problems) > SHOWN_PROBLEMS:
        more = QCoreApplication.translate("PicListMessages", "… and %1 more problems")
        lines.append(more.replace("%1", str(len(problems) - SHOWN_PROBLEMS)))
    return lines


def loaded_text(result: ParseResult) -> str:
    """A list was loaded: how many pictures, and the duplicates left out."""
    text = QCoreApplication.translate("PicListMessages", "Loaded %1 pictures.").replace(
        "%1", str(len(result.pics))
    )
    if result.duplicates:
        shown = "; ".join(str(p) for p in result.duplicates[:3])
        more = len(result.duplicates) - 3
        duplicates = QCoreApplication.translate("PicListMessages", "Duplicates ignored: %1")
        text += "\n" + duplicates.replace("%1", str(len(result.duplicates)))
        text += f" — {shown}" + (f" (+{more})" if more > 0 else "")
    return text


def parse_error_text(exc: PicListError, name: str) -> str:
    """A list that does not parse: its first problems; ``name`` is its file's or source's name, or ""."""
    if name:
        lead = QCoreApplication.translate("PicListMessages", "%1 has a problem:").replace("%1", name)
    else:
        lead = QCoreApplication.translate("PicListMessages", "The pic list has a problem:")
    return lead + "\n" + "\n".join(_problem_lines(exc.problems or []) or [str(exc)])


def unreadable_cells_text(problems: Sequence[object]) -> str:
    """Picture cells that "Find pictures" could not read."""
    lead = QCoreApplication.translate("PicListMessages", "Picture cells that could not be read: %1")
    return "\n".join([lead.replace("%1", str(len(problems))), *_problem_lines(problems)])


def file_error_text(path: Path | None, error: BaseException) -> str:
    """A pic-list file that could not be read (``PicFileError`` says it itself)."""
    from kdocs_viewer.core.piclist import PicFileError  # the worker that answered imported it

    if isinstance(error, PicFileError):
        return str(error)
    name = path.name if path is not None else ""
    text = QCoreApplication.translate("PicListMessages", "Could not read %1: %2")
    return text.replace("%1", name).replace("%2", redact(str(error)))

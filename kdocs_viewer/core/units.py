"""Sizes for people: the same wording in the CLI summary, the save dialogs and the preview."""

from __future__ import annotations


def format_size(count: float) -> str:
    """``532 B``, ``14.2 KB``, ``3.1 MB``, ``1.3 GB`` (powers of 1024, as file managers show)."""
    value = float(count)
    for unit in ("B", "KB", "MB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"

"""Spreadsheet cell addresses: the cells API counts rows and columns from 0, people read "C7"."""

from __future__ import annotations


def column_letters(col: int) -> str:
    """0-based column index → spreadsheet letters: 0 → A, 25 → Z, 26 → AA, 701 → ZZ, 702 → AAA."""
    if col < 0:
        raise ValueError("column index must not be negative")
    letters = ""
    n = col + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def cell_name(row: int, col: int) -> str:
    """``"C7"`` for 0-based (row 6, col 2)."""
    return f"{column_letters(col)}{row + 1}"


def cell_address(sheet: str, row: int, col: int) -> str:
    """``"Products!C7"`` for 0-based (row 6, col 2) on sheet "Products"."""
    return f"{sheet}!{cell_name(row, col)}"

"""Markdown tables of scores, as the reports and the docs print them."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["markdown_table"]


def _cell(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if value == 0 or 1e-3 <= abs(value) < 1e4:
            return f"{value:.4f}"
        return f"{value:.3e}"
    return str(value)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; floats with 4 decimals (scientific when tiny or huge).

    Args:
        header: the column titles.
        rows: the cells of each row, as many as ``header``.

    Returns:
        the table, one line per row, without a trailing newline.
    """
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"a row has {len(row)} cells but the header {len(header)}: {list(row)}")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)

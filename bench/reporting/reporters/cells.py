"""Shared text formatting of leaderboard cells."""

from __future__ import annotations

from bench.reporting.leaderboard import Cell
from bench.status import Direction, Status

ARROWS = {d.value: d.arrow for d in Direction}


def fmt_number(x: float) -> str:
    a = abs(x)
    if a != 0 and (a < 1e-3 or a >= 1e5):
        return f"{x:.3g}"
    return f"{x:.4f}" if a < 1 else f"{x:.3f}" if a < 100 else f"{x:.1f}"


def fmt_cell(cell: Cell | None) -> str:
    """'value [low, high]', plus coverage when partial, or the status when there is no value."""
    if cell is None:
        return "—"
    if cell.value is None:
        return "n/a" if cell.status == Status.NOT_APPLICABLE else f"n/a ({cell.status})"
    text = fmt_number(cell.value)
    if cell.ci:
        text += f" [{fmt_number(cell.ci[0])}, {fmt_number(cell.ci[1])}]"
    if cell.partial:
        text += f" ⚠ {cell.n_scored}/{cell.n_total}"
    return text

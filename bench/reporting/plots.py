"""Interval plots for leaderboard tables: each method's value and 95% CI, one panel per metric."""

from __future__ import annotations

from pathlib import Path

from bench.reporting.figure_cache import write_figure
from bench.reporting.leaderboard import Table
from bench.status import direction_of


def write_interval_plot(table: Table, out_dir: str | Path, max_metrics: int = 4) -> str | None:
    """Write ``<task>-<split>-intervals.png`` for the first metrics that have values."""
    metrics = [(m, d) for m, d in table.metrics
               if any(r.cells.get(m) and r.cells[m].value is not None for r in table.rows)]
    metrics = metrics[:max_metrics]
    if not metrics:
        return None
    names = [r.label for r in table.rows]
    cells = [[(c.value, c.ci, c.partial) if (c := row.cells.get(m)) is not None else None
              for m, _ in metrics] for row in table.rows]
    title = (f"{table.dataset} / {table.split}: value and 95% CI "
             "(orange: partial coverage)")

    def draw(path: Path) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(metrics), figsize=(3.6 * len(metrics),
                                                           0.45 * len(names) + 1.4), squeeze=False)
        for col, (ax, (metric, direction)) in enumerate(zip(axes[0], metrics)):
            for y, row in enumerate(cells):
                cell = row[col]
                if cell is None or cell[0] is None:
                    continue
                value, ci, partial = cell
                colour = "tab:orange" if partial else "tab:blue"
                if ci:
                    ax.plot(ci, [y, y], color=colour, lw=2)
                ax.plot([value], [y], "o", color=colour)
            ax.set_yticks(range(len(names)))
            ax.set_yticklabels(names if ax is axes[0][0] else [""] * len(names), fontsize=8)
            ax.invert_yaxis()
            ax.set_title(f"{metric} ({direction_of(direction)} is better)",
                         fontsize=9)
            ax.grid(axis="x", alpha=0.3)
        fig.suptitle(title, fontsize=9)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)

    inputs = {"metrics": [[m, d] for m, d in metrics], "names": names, "cells": cells,
              "title": title}
    return write_figure(out_dir, f"{table.task}-{table.split}-intervals.png", inputs, draw)

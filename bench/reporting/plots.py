"""Interval plots for leaderboard tables: each method's value and 95% CI, one panel per metric."""

from __future__ import annotations

from pathlib import Path

from bench.reporting.leaderboard import Table
from bench.status import direction_of


def write_interval_plot(table: Table, out_dir: str | Path, max_metrics: int = 4) -> str | None:
    """Write ``<task>-<split>-intervals.png`` for the first metrics that have values."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [(m, d) for m, d in table.metrics
               if any(r.cells.get(m) and r.cells[m].value is not None for r in table.rows)]
    metrics = metrics[:max_metrics]
    if not metrics:
        return None
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.6 * len(metrics), 0.45 * len(table.rows)
                                                       + 1.4), squeeze=False)
    names = [r.label for r in table.rows]
    for ax, (metric, direction) in zip(axes[0], metrics):
        for y, row in enumerate(table.rows):
            cell = row.cells.get(metric)
            if cell is None or cell.value is None:
                continue
            colour = "tab:orange" if cell.partial else "tab:blue"
            if cell.ci:
                ax.plot(cell.ci, [y, y], color=colour, lw=2)
            ax.plot([cell.value], [y], "o", color=colour)
        ax.set_yticks(range(len(names)))
        ax.set_yticklabels(names if ax is axes[0][0] else [""] * len(names), fontsize=8)
        ax.invert_yaxis()
        ax.set_title(f"{metric} ({direction_of(direction)} is better)",
                     fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(f"{table.dataset} / {table.split}: value and 95% CI "
                 "(orange: partial coverage)", fontsize=9)
    fig.tight_layout()
    name = f"{table.task}-{table.split}-intervals.png"
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    fig.savefig(Path(out_dir) / name, dpi=100)
    plt.close(fig)
    return name

"""The leaderboard pipeline: records -> tables -> significance -> figures -> every reporter.

``bench run`` and ``bench leaderboard`` call :func:`build_leaderboards`; the command line only
chooses the directories and prints what this returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.discovery.loader import Registries


@dataclass
class Written:
    """What a leaderboard build wrote: the baseline manifest (when publishing) and the files."""

    files: list[Path]
    manifest: Path | None = None


def build_leaderboards(regs: Registries, runs_dir: str, out_dir: str, publish: bool = False,
                       source: str = "") -> Written:
    """Tables of the committed rows plus the runs directory's rows (marked as the user's); with
    ``publish``, the runs directory's records become the committed baseline and tables.

    ``source`` is the command recorded in the baseline's manifest when publishing.
    """
    from bench.reporting import baseline
    from bench.reporting.leaderboard import build_tables, write_leaderboards
    from bench.reporting.mouth_plot import write_mouth_plot
    from bench.reporting.plots import write_interval_plot
    from bench.reporting.significance import add_significance
    from bench.reporting.strips import write_strip

    manifest: Path | None = None
    if publish:
        manifest = baseline.export(runs_dir, source=source)
        tables = build_tables(runs_dir, runs_origin="committed")
    else:
        tables = build_tables(runs_dir, committed=baseline.load())
    from bench.feature_cache import JsonDiskCache

    # groups and rank intervals by table content, so a warm re-run does not redo them
    add_significance(tables, regs.metrics,
                     cache=JsonDiskCache("significance", lambda v: v, lambda v: v))
    for table in tables:
        images: list[Any] = [write_interval_plot(table, out_dir),
                             write_strip(table, runs_dir, out_dir),
                             write_mouth_plot(table, runs_dir, out_dir, regs)]
        table.images.extend(image for image in images if image)
    files = write_leaderboards(tables, out_dir, list(regs.reporters))
    return Written(files, manifest)

"""Sample-frame strips for tables whose predictions are videos: one row of frames per method."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bench.reporting.figure_cache import array_digest, write_figure
from bench.reporting.leaderboard import Table
from bench.execution.records import read_record
from bench.execution.store import ArtifactStore, SampleLog
from bench.execution.layout import RunsLayout

N_FRAMES = 6


def _frames_of(runs_dir: Path, record_path: str, sample_id: str) -> np.ndarray | None:
    rec = read_record(Path(record_path))
    key = rec.get("keys", {}).get("predictions")
    if not key:
        return None
    store = ArtifactStore(RunsLayout(runs_dir).artifacts)
    entries = SampleLog(RunsLayout(runs_dir).prediction_log(key),
                        store).read()
    entry = entries.get(sample_id)
    if not entry or entry.get("status") != "ok" or not entry.get("artifact"):
        return None
    return store.get(entry["artifact"]).get("frames")


def _first_common_sample(runs_dir: Path, table: Table) -> str | None:
    ids = None
    for row in table.rows:
        if not row.record.endswith(".json"):  # a committed row: no cached frames here
            continue
        path = RunsLayout.samples(row.record)
        if not path.exists():
            continue
        got = {json.loads(line)["id"] for line in path.read_text().splitlines() if line.strip()}
        ids = got if ids is None else ids & got
    return sorted(ids)[0] if ids else None


def write_strip(table: Table, runs_dir: str | Path, out_dir: str | Path) -> str | None:
    """Write ``<task>-<split>-samples.png`` and return its file name, or None if no videos."""
    runs = Path(runs_dir)
    sample_id = _first_common_sample(runs, table)
    if sample_id is None:
        return None
    rows = []
    for row in table.rows:
        if not row.record.endswith(".json"):
            continue
        frames = _frames_of(runs, row.record, sample_id)
        if frames is not None and frames.ndim == 4:
            idx = np.linspace(0, len(frames) - 1, N_FRAMES).astype(int)
            rows.append((row.label, frames[idx]))
    if not rows:
        return None
    title = f"{table.dataset} / {table.split}: clip {sample_id}"

    def draw(path: Path) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(len(rows), N_FRAMES, figsize=(N_FRAMES * 1.4, len(rows) * 1.5),
                                 squeeze=False)
        for r, (method, frames) in enumerate(rows):
            for c in range(N_FRAMES):
                ax = axes[r][c]
                ax.imshow(frames[c])
                ax.set_xticks([])
                ax.set_yticks([])
                if c == 0:
                    ax.set_ylabel(method, fontsize=8, rotation=0, ha="right", va="center")
        fig.suptitle(title, fontsize=9)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)

    inputs = {"title": title, "rows": [[label, array_digest(f)] for label, f in rows]}
    return write_figure(out_dir, f"{table.task}-{table.split}-samples.png", inputs, draw)

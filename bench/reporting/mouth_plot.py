"""Mouth opening over time for talking-face tables: ground truth vs every method, one clip.

The opening of a frame is estimated from pixels in the same way for every method (the ground
truth's frames included): in the lower half of the face box, central 60 % of its width, the mean
darkness relative to the skin, ``clip((skin - luma) / skin, 0, 1)`` with the skin luma taken as
the region's median. On the embedded synthetic clips this estimate follows the renderer's
``open`` mouth parameter with a correlation of about 0.9 (12 val clips). When the sample carries
its phones (the embedded dataset), the renderer's own ``open`` parameter for the driving audio is
drawn as well: it is what a synced mouth should do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bench.reporting.figure_cache import array_digest, write_figure
from bench.reporting.leaderboard import Table
from bench.execution.records import read_record
from bench.reporting.strips import _first_common_sample, _frames_of

LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def mouth_opening(frames: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(T,H,W,3) uint8 frames and (T,4) x0,y0,x1,y1 face boxes -> (T,) opening estimate."""
    frames = np.asarray(frames)
    boxes = np.asarray(boxes)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be (T,H,W,3), got shape {frames.shape}")
    if len(boxes) < len(frames):
        raise ValueError(f"{len(boxes)} face boxes for {len(frames)} frames")
    h, w = frames.shape[1:3]
    out = np.zeros(len(frames), np.float32)
    for i, (f, box) in enumerate(zip(frames, np.round(boxes).astype(int))):
        x0, y0, x1, y1 = (int(v) for v in box)
        bw = x1 - x0
        ym = (y0 + y1) // 2
        xa, xb = max(0, x0 + bw // 5), min(w, x1 - bw // 5)
        ya, yb = max(0, ym), min(h, y1)
        if xb <= xa or yb <= ya:
            out[i] = np.nan
            continue
        luma = f[ya:yb, xa:xb].astype(np.float32) @ LUMA
        skin = float(np.median(luma))
        out[i] = np.clip((skin - luma) / max(skin, 1.0), 0.0, 1.0).mean()
    return out


def _sample(regs: Any, record_path: str, dataset: str, split: str, sample_id: str) -> Any:
    """The dataset sample the table's videos were generated for (None if it cannot be loaded)."""
    from bench.lazy import resolve

    try:
        rec = read_record(Path(record_path))
        options = rec.get("dataset", {}).get("options", {}) or {}
        spec = regs.datasets.get(dataset)
        return resolve(spec.loader)(**dict(options)).split(split).get(sample_id)
    except Exception:  # noqa: BLE001 - the figure is optional; the tables must still be written
        return None


def _truth_track(sample: Any, n: int) -> np.ndarray | None:
    phones = (getattr(sample, "meta", None) or {}).get("phones")
    if not phones:
        return None
    from bench.datasets.talking_face.render.visemes import mouth_track

    return mouth_track([tuple(p) for p in phones], n)[:, 0]


def write_mouth_plot(table: Table, runs_dir: str | Path, out_dir: str | Path,
                     regs: Any) -> str | None:
    """Write ``<task>-<split>-mouth.png`` and return its file name, or None if no videos."""
    runs = Path(runs_dir)
    sample_id = _first_common_sample(runs, table)
    local = [row for row in table.rows if row.record.endswith(".json")]  # rows with frames here
    if sample_id is None or not local:
        return None
    sample = _sample(regs, local[0].record, table.dataset, table.split, sample_id)
    if sample is None or getattr(sample, "face_boxes", None) is None:
        return None
    boxes = np.asarray(sample.face_boxes)
    curves = []
    for row in local:
        frames = _frames_of(runs, row.record, sample_id)
        if frames is not None and frames.ndim == 4 and len(frames) <= len(boxes):
            curves.append((row.label, mouth_opening(frames, boxes)))
    if not curves:
        return None
    n = max(len(c) for _, c in curves)
    truth = _truth_track(sample, n)
    target = getattr(sample, "target", None)
    target_curve = mouth_opening(target[:n], boxes) if target is not None else None

    t = np.arange(n) / float(getattr(sample, "fps", 25.0) or 25.0)
    title = (f"{table.dataset} / {table.split}: mouth opening, clip {sample_id}\n"
             "(estimated from frames; r = correlation with the renderer's parameter)")

    def draw(path: Path) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(len(curves), 1, figsize=(7.5, 1.05 * len(curves) + 0.9),
                                 sharex=True, squeeze=False)
        for ax, (method, curve) in zip(axes[:, 0], curves):
            if truth is not None:
                # the renderer's parameter, scaled onto the estimate's range of the target frames
                ref = target_curve if target_curve is not None else curve
                lo, hi = np.nanmin(ref), np.nanmax(ref)
                ax.plot(t, lo + truth * (hi - lo), color="0.6", lw=2.5,
                        label="ground-truth 'open'")
            elif target_curve is not None:
                ax.plot(t, target_curve, color="0.6", lw=2.5, label="target frames")
            label = method
            if truth is not None and np.nanstd(curve) > 0:
                ok = ~np.isnan(curve)
                label += f"  (r = {np.corrcoef(curve[ok], truth[:len(curve)][ok])[0, 1]:.2f})"
            ax.plot(t[:len(curve)], curve, color="tab:blue", lw=1.2, label=label)
            ax.legend(loc="upper right", fontsize=7, frameon=False)
            ax.set_yticks([])
        axes[-1, 0].set_xlabel("time (s)")
        fig.suptitle(title, fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)

    def digest(arr: np.ndarray | None) -> str | None:
        return None if arr is None else array_digest(arr)

    inputs = {"title": title, "curves": [[label, digest(c)] for label, c in curves],
              "truth": digest(truth), "target": digest(target_curve), "t": digest(t)}
    return write_figure(out_dir, f"{table.task}-{table.split}-mouth.png", inputs, draw)

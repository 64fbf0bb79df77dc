"""Validation checks of a G4G checkpoint for model selection (never run on test splits).

Clips are duck-typed: ``frames`` (identity), ``target`` (the real frames), ``face_boxes``,
``audio`` (16 kHz) and ``n_output_frames``, as the harness's talking-face clips have them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from skimage.metrics import peak_signal_noise_ratio


def mouth_psnr(out: np.ndarray, target: np.ndarray, boxes: np.ndarray) -> float:
    """PSNR (dB) over the lower halves of the face boxes, where the method generates, pooled
    over all frames (one mean squared error, then one PSNR)."""
    outs, targets = [], []
    for o, t, (x0, y0, x1, y1) in zip(out, target, np.round(boxes).astype(int)):
        ym = (y0 + y1) // 2
        outs.append(o[ym:y1, x0:x1].ravel())
        targets.append(t[ym:y1, x0:x1].ravel())
    return float(peak_signal_noise_ratio(np.concatenate(targets), np.concatenate(outs),
                                         data_range=255))


def aligner_sync(aligner: Any, frames: np.ndarray, boxes: np.ndarray, audio: np.ndarray,
                 max_offset: int = 6) -> tuple[float, bool] | None:
    """Sync of a video in the eyes of a G4G aligner (the TRAINING expert, not the evaluation
    SyncNet): (confidence, offset hit). Confidence = mean cosine at offset 0 minus the median
    over offsets -D..D, averaged over windows first; hit = offset 0 is the best offset."""
    from reference_models.g4g.alignment import offset_similarities
    from reference_models.g4g.data import TalkingFaceArrays, VideoArrays

    data = TalkingFaceArrays([VideoArrays("v", frames, boxes, audio)], aligner.cfg)
    sims = offset_similarities(aligner, *data.clip_windows(0), max_offset)
    if not len(sims):
        return None
    mean = sims.mean(0)
    return float(mean[max_offset] - mean.median()), bool(mean.argmax() == max_offset)


def evaluate_clips(generate: Callable[[Any], np.ndarray], aligner: Any,
                   clips: Iterable[Any]) -> dict[str, float]:
    """Mouth-region PSNR of ``generate`` and of the "reference frame" baseline (the frame half
    the video away, i.e. the model's own reference), and sync of both and of the ground truth
    as ``aligner`` sees it; means over the clips."""
    from reference_models.g4g.inference import reference_indices

    rows: dict[str, list[float]] = {}
    for clip in clips:
        n = clip.n_output_frames
        target, boxes = clip.target[:n], clip.face_boxes[:n]
        r = reference_indices(len(clip.frames), np.arange(n))
        videos = {"g4g": generate(clip), "reference_frame": clip.frames[r],
                  "ground_truth": target}
        for name, frames in videos.items():
            if name != "ground_truth":
                rows.setdefault(f"{name}_mouth_psnr_db", []).append(
                    mouth_psnr(frames, target, boxes))
            got = aligner_sync(aligner, frames, boxes, clip.audio)
            if got is not None:
                rows.setdefault(f"{name}_sync_conf", []).append(got[0])
                rows.setdefault(f"{name}_offset_hit", []).append(float(got[1]))
    out: dict[str, float] = {"clips": len(rows.get("g4g_mouth_psnr_db", []))}
    out.update({k: float(np.mean(v)) for k, v in rows.items()})
    return out

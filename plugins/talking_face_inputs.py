"""Checks on a talking-face clip before a method uses it; problems become SampleErrors."""

from __future__ import annotations

import numpy as np

from bench.interfaces import SampleError
from bench.samples import Clip


def check_clip(clip: Clip) -> None:
    """Raise :class:`SampleError` naming the clip when its frames, boxes or audio are unusable."""
    frames, boxes, audio = clip.frames, np.asarray(clip.face_boxes), np.asarray(clip.audio)
    where = f"clip {clip.id!r}"
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[-1] != 3:
        raise SampleError(f"{where}: frames must be an array (T, H, W, 3), got {getattr(frames, 'shape', type(frames))}")
    if frames.dtype != np.uint8:
        raise SampleError(f"{where}: frames must be uint8 RGB, got {frames.dtype}")
    if len(frames) == 0:
        raise SampleError(f"{where}: has no identity frames")
    if boxes.shape != (len(frames), 4):
        raise SampleError(f"{where}: face_boxes must be ({len(frames)}, 4), got {boxes.shape}")
    if not np.all(np.isfinite(boxes)):
        raise SampleError(f"{where}: face_boxes contain NaN or infinite values")
    h, w = frames.shape[1:3]
    x0, y0 = np.maximum(boxes[:, 0], 0), np.maximum(boxes[:, 1], 0)
    x1, y1 = np.minimum(boxes[:, 2], w), np.minimum(boxes[:, 3], h)
    bad = np.flatnonzero((x1 - x0 < 2) | (y1 - y0 < 2))
    if bad.size:
        raise SampleError(
            f"{where}: face box of frame {int(bad[0])} {boxes[bad[0]].tolist()} is empty inside the {w}x{h} frame"
        )
    if audio.ndim != 1:
        raise SampleError(f"{where}: audio must be mono (n,), got shape {audio.shape}")
    if not np.all(np.isfinite(audio)):
        raise SampleError(f"{where}: audio contains NaN or infinite samples")
    if clip.sample_rate <= 0 or clip.fps <= 0:
        raise SampleError(f"{where}: sample_rate and fps must be positive ({clip.sample_rate}, {clip.fps})")

"""Face-box helpers shared by inference and training data: crops, frame looping, references.

Only numpy and OpenCV, so simple baselines can use them without importing torch.
"""

from __future__ import annotations

import cv2
import numpy as np

FACE_SIZE = 96


def ping_pong(n_source: int, n_out: int) -> np.ndarray:
    """Indices into ``n_source`` frames for ``n_out`` outputs: 0..T-1, T-2..1, 0.. (no jump cut)."""
    if n_source <= 0:
        raise ValueError("need at least one identity frame")
    if n_source == 1:
        return np.zeros(n_out, dtype=int)
    period = 2 * (n_source - 1)
    k = np.arange(n_out) % period
    return np.where(k < n_source, k, period - k)


def clip_box(box: np.ndarray, height: int, width: int) -> tuple[int, int, int, int]:
    """Round a (x0, y0, x1, y1) box to pixels inside the frame; ValueError if it is empty."""
    x0, y0, x1, y1 = (round(float(v)) for v in box)
    x0, x1 = max(0, x0), min(width, x1)
    y0, y1 = max(0, y0), min(height, y1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise ValueError(f"face box {tuple(np.asarray(box).tolist())} is empty inside a {width}x{height} frame")
    return x0, y0, x1, y1


def crop_faces(frames: np.ndarray, boxes: np.ndarray, size: int = FACE_SIZE) -> np.ndarray:
    """Crop each frame's face box and resize it to ``size``x``size``: (T, size, size, 3) uint8."""
    h, w = frames.shape[1:3]
    out = np.empty((len(frames), size, size, 3), dtype=np.uint8)
    for i, (frame, box) in enumerate(zip(frames, boxes)):
        x0, y0, x1, y1 = clip_box(box, h, w)
        out[i] = cv2.resize(frame[y0:y1, x0:x1], (size, size), interpolation=cv2.INTER_AREA)
    return out


def reference_indices(n_source: int) -> np.ndarray:
    """For each identity frame, a reference frame half the video away (another 5-frame window)."""
    return (np.arange(n_source) + n_source // 2) % n_source

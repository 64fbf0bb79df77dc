"""The standard face crop: the face box resized to a square (96x96 by default)."""

from __future__ import annotations

import cv2
import numpy as np

CROP_SIZE = 96


def face_crops(frames: np.ndarray, boxes: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """Crops (T, size, size, 3) uint8: each frame's box (x0, y0, x1, y1) resized with INTER_AREA."""
    frames = np.asarray(frames)
    boxes = np.asarray(boxes)
    if len(frames) != len(boxes):
        raise ValueError(f"{len(frames)} frames but {len(boxes)} face boxes")
    h, w = frames.shape[1:3]
    out = np.empty((len(frames), size, size, 3), np.uint8)
    for i, (f, b) in enumerate(zip(frames, boxes)):
        x0, y0 = max(0, int(np.floor(b[0]))), max(0, int(np.floor(b[1])))
        x1, y1 = min(w, int(np.ceil(b[2]))), min(h, int(np.ceil(b[3])))
        if x1 - x0 < 2 or y1 - y0 < 2:
            raise ValueError(f"frame {i}: face box {tuple(b)} is empty inside a {w}x{h} frame")
        out[i] = cv2.resize(f[y0:y1, x0:x1], (size, size), interpolation=cv2.INTER_AREA)
    return out

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


def steady_boxes(boxes: np.ndarray, height: int) -> np.ndarray:
    """(T, 4) boxes whose height is their width times the clip's largest height/width ratio.

    A box that ends at the chin grows as the jaw opens, so its crop tells the mouth's state by
    its scale and a face pasted into it keeps the identity video's jaw motion: under new audio
    the chin still follows the old speech. With one aspect ratio per clip (the largest, so the
    chin always stays inside) the box moves with the head only.
    """
    out = np.asarray(boxes, dtype=np.float32).copy()
    width = out[:, 2] - out[:, 0]
    ratio = float(np.max((out[:, 3] - out[:, 1]) / width))
    out[:, 3] = np.minimum(float(height), out[:, 1] + width * ratio)
    return out


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


def paste_mask(height: int, width: int, feather: float = 0.12) -> np.ndarray:
    """(height, width) float32 blending weights for a generated face in its box.

    1 over the lower half, where the mouth is generated; 0 over the upper half, which the
    generator copies from its masked input anyway; linear ramps of ``feather`` x the box size
    across the middle line and along the left, right and bottom edges, so no box edge shows.
    """
    fy = max(1.0, feather * height)
    fx = max(1.0, feather * width)
    y = np.arange(height, dtype=np.float32) + 0.5
    x = np.arange(width, dtype=np.float32) + 0.5
    vert = np.clip((y - height / 2) / fy + 0.5, 0, 1) * np.clip((height - y) / fy, 0, 1)
    horiz = np.clip(x / fx, 0, 1) * np.clip((width - x) / fx, 0, 1)
    return (vert[:, None] * horiz[None, :]).astype(np.float32)


def paste_face(frame: np.ndarray, face: np.ndarray, box: np.ndarray,
               feather: float = 0.12) -> np.ndarray:
    """Blend a generated square face back into ``frame`` (a copy) inside ``box``.

    The face is resized to the box; its colour is matched to the frame by a per-channel offset
    measured on the upper half of the box (the part the generator only copies, so any difference
    there is a colour shift of the whole crop); then it is blended with :func:`paste_mask`.
    """
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = clip_box(box, h, w)
    bh, bw = y1 - y0, x1 - x0
    gen = cv2.resize(face, (bw, bh), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    orig = frame[y0:y1, x0:x1].astype(np.float32)
    upper = slice(0, max(1, bh // 2))
    gen += (orig[upper] - gen[upper]).mean(axis=(0, 1))
    m = paste_mask(bh, bw, feather)[..., None]
    out = frame.copy()
    out[y0:y1, x0:x1] = np.clip(np.rint(m * gen + (1 - m) * orig), 0, 255).astype(np.uint8)
    return out

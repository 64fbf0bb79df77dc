"""Render a whole clip: head motion and blinks seeded per clip, mouth driven by timed phones."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np

from .face import render_frame, static_layer
from .identity import Identity
from .visemes import mouth_track

# Blink profile over consecutive frames (fraction of the eye closed).
BLINK_PROFILE = (0.5, 1.0, 0.7, 0.25)


def motion_params(seed: int, n_frames: int, fps: float = 25.0) -> dict[str, Any]:
    """Head-motion (sums of slow sinusoids) and blink parameters for one clip, JSON-able."""
    rng = np.random.default_rng(seed)
    motion = {}
    for axis, amp in (("tx", 1.8), ("ty", 1.2), ("angle", 3.5)):
        motion[axis] = [
            [round(float(amp * rng.uniform(0.3, 1.0) / 2), 4), round(float(rng.uniform(0.08, 0.6)), 4),
             round(float(rng.uniform(0, 2 * np.pi)), 4)]
            for _ in range(2)
        ]
    blinks = []
    t = float(rng.exponential(2.0))
    duration = n_frames / fps
    while t < duration:
        blinks.append(int(t * fps))
        t += 1.0 + float(rng.exponential(3.0))
    return {"motion": motion, "blinks": blinks}


def pose_track(params: Mapping[str, Any], n_frames: int, fps: float = 25.0) -> np.ndarray:
    """(n_frames, 3) translation x, y (px) and rotation (degrees) from :func:`motion_params`."""
    t = np.arange(n_frames) / fps
    out = np.zeros((n_frames, 3))
    for j, axis in enumerate(("tx", "ty", "angle")):
        for amp, freq, phase in params["motion"][axis]:
            out[:, j] += amp * np.sin(2 * np.pi * freq * t + phase)
    return out


def blink_track(params: Mapping[str, Any], n_frames: int) -> np.ndarray:
    """(n_frames,) eye closure in [0, 1]."""
    out = np.zeros(n_frames)
    for start in params["blinks"]:
        for k, v in enumerate(BLINK_PROFILE):
            if 0 <= start + k < n_frames:
                out[start + k] = max(out[start + k], v)
    return out


def render_clip(ident: Identity, phones: Iterable, n_frames: int,
                params: Mapping[str, Any], fps: float = 25.0) -> tuple[np.ndarray, np.ndarray]:
    """Frames (T, 128, 128, 3) uint8 and face boxes (T, 4) int32 for one clip.

    ``params`` comes from :func:`motion_params` (stored in the dataset manifest).
    """
    mouth = mouth_track(list(phones), n_frames, fps)
    pose = pose_track(params, n_frames, fps)
    blink = blink_track(params, n_frames)
    static = static_layer(ident)
    frames = np.empty((n_frames, 128, 128, 3), np.uint8)
    boxes = np.empty((n_frames, 4), np.int32)
    for i in range(n_frames):
        frames[i], boxes[i] = render_frame(ident, static, mouth[i], blink[i], *pose[i])
    return frames, boxes

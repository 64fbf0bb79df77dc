"""Simple talking-face baselines that bracket the learned methods.

- ``StaticReference``: the identity frames unchanged (perfect identity, no lip sync);
- ``AudioEnergyMouth``: darkens an ellipse in the mouth region in proportion to the audio's
  per-frame loudness (sync from energy alone, nothing learned).

Clips are duck-typed (``frames``, ``face_boxes``, ``audio``, ``sample_rate``, ``fps``,
``n_output_frames``) and assumed usable: the harness's adapter (plugins/talking_face_baselines.py)
checks them first.

Under reconstruction the identity frames are the target video itself, so both play them
from half a video away (looping back and forth): copying them in place would hand over the true
mouth, as the reference frame does in Wav2Lip's own training.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference_models.wav2lip.faces import clip_box, ping_pong


def reference_order(n_source: int, n_out: int) -> np.ndarray:
    """Identity-frame index per output frame: the back-and-forth loop started half a video in."""
    shift = n_source // 2
    return ping_pong(n_source, n_out + shift)[shift:]


class StaticReference:
    """Repeats the identity frames unchanged, from another point of the video, as long as the audio."""

    def generate(self, clip: Any) -> np.ndarray:
        """Identity frames in :func:`reference_order`, uint8 (n, H, W, 3)."""
        return clip.frames[reference_order(len(clip.frames), clip.n_output_frames)].copy()


def frame_rms(audio: np.ndarray, sample_rate: int, fps: float, n_frames: int) -> np.ndarray:
    """Root-mean-square of the audio inside each video frame's time span, shape (n_frames,)."""
    audio = np.asarray(audio, dtype=np.float64)
    edges = np.round(np.arange(n_frames + 1) * sample_rate / fps).astype(int)
    out = np.zeros(n_frames)
    for i in range(n_frames):
        seg = audio[edges[i] : edges[i + 1]]
        out[i] = np.sqrt(np.mean(seg**2)) if seg.size else 0.0
    return out


def openness(rms: np.ndarray, range_db: float = 30.0, silence_db: float = -60.0,
             top_percentile: float = 95.0) -> np.ndarray:
    """Mouth opening in [0, 1]: 1 at the clip's loud frames, 0 at ``range_db`` below them.

    Measured relative to the clip's own loud frames, so the recording volume does not matter;
    frames quieter than ``silence_db`` dBFS stay closed.
    """
    db = 20 * np.log10(np.maximum(np.asarray(rms, dtype=np.float64), 1e-10))
    voiced = db >= silence_db
    if not voiced.any():
        return np.zeros_like(db)
    top = np.percentile(db[voiced], top_percentile)
    return np.where(voiced, np.clip((db - top) / range_db + 1.0, 0.0, 1.0), 0.0)


class AudioEnergyMouth:
    """Darken a soft ellipse in the lower face whose height follows the audio loudness.

    The ellipse sits at ``(cx, cy)`` (fractions of the face box); its half-width is ``rx`` and its
    half-height ``ry_max`` times the opening, so silence leaves the frame untouched.
    """

    def __init__(self, cx: float = 0.5, cy: float = 0.74, rx: float = 0.16, ry_max: float = 0.08,
                 darkness: float = 0.75):
        self.cx, self.cy, self.rx, self.ry_max, self.darkness = cx, cy, rx, ry_max, darkness

    def generate(self, clip: Any) -> np.ndarray:
        """Identity frames with a mouth opening driven by the RMS envelope, uint8 (n, H, W, 3)."""
        n = clip.n_output_frames
        src = reference_order(len(clip.frames), n)
        out = clip.frames[src].copy()
        amount = openness(frame_rms(clip.audio, clip.sample_rate, clip.fps, n))
        h, w = out.shape[1:3]
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
        for i in range(n):
            if amount[i] <= 0:
                continue
            x0, y0, x1, y1 = clip_box(np.asarray(clip.face_boxes)[src[i]], h, w)
            bw, bh = x1 - x0, y1 - y0
            cx, cy = x0 + self.cx * bw, y0 + self.cy * bh
            rx, ry = self.rx * bw, max(self.ry_max * bh * amount[i], 0.5)
            r = np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2)
            mask = np.clip(1.5 - r, 0, 1)  # soft edge between r = 0.5 and r = 1.5
            shade = 1 - self.darkness * mask
            out[i] = np.clip(np.rint(out[i] * shade[..., None]), 0, 255).astype(np.uint8)
        return out

"""The sample types that datasets yield and methods consume, and the input check a talking-face
method runs on a clip before using it (:func:`check_clip`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench.interfaces import SampleError

SPEECH_SAMPLE_RATE = 16000
VIDEO_FPS = 25.0


@dataclass(frozen=True, eq=False)
class Segment:
    """One consonant segment: a mono float waveform plus where it came from.

    ``label`` is 1 for voiced and 0 for voiceless.
    """

    id: str
    waveform: np.ndarray
    sample_rate: int
    phone: str
    label: int
    speaker: str = ""
    corpus: str = ""
    start: float = 0.0
    end: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Clip:
    """One talking-face clip as a method sees it.

    ``frames`` are the identity video, uint8 RGB (T, H, W, 3); ``face_boxes`` the face box per
    frame as (x0, y0, x1, y1) pixels; ``audio`` the driving audio, float32 mono in [-1, 1] at
    ``sample_rate``. A method must return ``n_output_frames`` frames of the same size as ``frames``.
    ``target`` holds the ground-truth frames where the protocol has them (reconstruction).
    """

    id: str
    frames: np.ndarray
    face_boxes: np.ndarray
    audio: np.ndarray
    sample_rate: int = SPEECH_SAMPLE_RATE
    fps: float = VIDEO_FPS
    identity: str = ""
    speaker: str = ""
    target: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_output_frames(self) -> int:
        """Frames a method must produce: the whole video frames that the audio covers."""
        return frames_for_audio(len(self.audio), self.sample_rate, self.fps)


def frames_for_audio(n_samples: int, sample_rate: int, fps: float) -> int:
    """Number of whole video frames covered by ``n_samples`` of audio."""
    return int(n_samples * fps // sample_rate)


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

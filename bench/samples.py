"""The sample types that datasets yield and methods consume."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

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

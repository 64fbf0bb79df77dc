"""Input handling and acoustic features shared by the speech baselines.

Segments are duck-typed: anything with ``.waveform`` (and optionally ``.sample_rate`` and
``.id``) or a raw 1-D array. Invalid segments (empty, NaN or infinite samples) are not
errors at prediction time: the baselines give them a NaN probability row so that an evaluation
harness can record a per-sample failure and go on.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import librosa
import numpy as np

SAMPLE_RATE = 16000


def describe(segment: Any, index: int) -> str:
    """A short name for a segment in error messages: its id when it has one, else its index."""
    sid = getattr(segment, "id", None)
    return f"segment {sid!r} (index {index})" if sid else f"segment at index {index}"


def waveform_of(segment: Any, index: int = 0) -> np.ndarray:
    """Return the segment's samples as 1-D float32; raise ValueError for a wrong rate or shape."""
    if hasattr(segment, "waveform"):
        rate = getattr(segment, "sample_rate", SAMPLE_RATE)
        if rate != SAMPLE_RATE:
            raise ValueError(
                f"{describe(segment, index)} has sample rate {rate}; the baselines expect "
                f"{SAMPLE_RATE} Hz (resample first)"
            )
        data = segment.waveform
    else:
        data = segment
    wave = np.asarray(data, dtype=np.float32)
    if wave.ndim != 1:
        raise ValueError(f"{describe(segment, index)} must be 1-D audio, got shape {wave.shape}")
    return wave


def is_valid(wave: np.ndarray) -> bool:
    """True when the waveform has samples and all of them are finite."""
    return wave.size > 0 and bool(np.all(np.isfinite(wave)))


def waveforms(segments: Sequence[Any]) -> tuple[list[np.ndarray], np.ndarray]:
    """All waveforms plus a boolean mask of the valid ones."""
    waves = [waveform_of(s, i) for i, s in enumerate(segments)]
    return waves, np.array([is_valid(w) for w in waves], dtype=bool)


def training_waveforms(segments: Sequence[Any], labels: Any) -> tuple[list[np.ndarray], np.ndarray]:
    """Waveforms and 0/1 labels for fitting; any invalid segment or label is an error."""
    waves, ok = waveforms(segments)
    y = np.asarray(labels).reshape(-1)
    if len(y) != len(waves):
        raise ValueError(f"got {len(waves)} segments but {len(y)} labels")
    bad = np.flatnonzero(~ok)
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"cannot train on {describe(segments[i], i)}: it is empty or has NaN/inf samples "
            f"({bad.size} such segment(s) in total)"
        )
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"labels must be 0 (voiceless) or 1 (voiced), got values {np.unique(y)}")
    if len(np.unique(y)) < 2:
        raise ValueError("training needs segments of both classes (labels 0 and 1)")
    return waves, y.astype(np.int64)


def peak_normalise(wave: np.ndarray) -> np.ndarray:
    """Scale so that the largest absolute sample is 1 (silent input is returned unchanged)."""
    peak = float(np.max(np.abs(wave))) if wave.size else 0.0
    return wave if peak == 0.0 else (wave / peak).astype(np.float32)


def mfcc_frames(
    wave: np.ndarray,
    n_mfcc: int = 40,
    n_fft: int = 256,
    hop_length: int = 512,
    n_mels: int = 128,
) -> np.ndarray:
    """librosa MFCC as a (frames, n_mfcc) float32 array.

    The defaults are the authors' call ``librosa.feature.mfcc(y, sr=16000, n_mfcc=40,
    n_fft=256)``, which keeps librosa's hop of 512 and 128 mel bands; with 129 FFT bins some
    mel filters are empty, which librosa warns about and which is harmless here.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Empty filters.*")
        warnings.filterwarnings("ignore", message=".*n_fft=.* is too large.*")
        m = librosa.feature.mfcc(
            y=wave.astype(np.float32), sr=SAMPLE_RATE, n_mfcc=n_mfcc, n_fft=n_fft,
            hop_length=hop_length, n_mels=n_mels,
        )
    return np.ascontiguousarray(m.T, dtype=np.float32)


def mfcc_statistics(
    wave: np.ndarray, n_mfcc: int = 20, n_fft: int = 256, hop_length: int = 128, n_mels: int = 40
) -> np.ndarray:
    """Mean and standard deviation over time of MFCCs and their first deltas (4 * n_mfcc values)."""
    m = mfcc_frames(wave, n_mfcc=n_mfcc, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels).T
    # 'nearest' edges let the delta filter run on segments shorter than its 9-frame window.
    d = librosa.feature.delta(m, width=9, mode="nearest") if m.shape[1] > 1 else np.zeros_like(m)
    return np.concatenate([m.mean(1), m.std(1), d.mean(1), d.std(1)]).astype(np.float32)

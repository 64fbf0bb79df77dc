"""Input checks and conversions for SyncNet scoring: frames to 25 fps uint8 BGR 224×224, audio to
16 kHz int16-scale mono. Every conversion is recorded as a note so results say what was changed."""

from __future__ import annotations

import cv2
import numpy as np

from bench.interfaces import SampleError

SYNC_FPS = 25.0
SYNC_RATE = 16000
SYNC_SIZE = 224

__all__ = ["SYNC_FPS", "SYNC_RATE", "SYNC_SIZE", "prepare_audio", "prepare_frames"]


def _to_three_channels(frames: np.ndarray, name: str, notes: list[str]) -> np.ndarray:
    if frames.ndim == 3:
        frames = frames[..., None]
    if frames.ndim != 4:
        raise SampleError(f"{name}: frames must be (T,H,W,3), got shape {frames.shape}")
    c = frames.shape[-1]
    if c == 1:
        notes.append("grayscale frames replicated to 3 channels")
        return np.repeat(frames, 3, axis=-1)
    if c == 4:
        notes.append("alpha channel dropped")
        return frames[..., :3]
    if c != 3:
        raise SampleError(f"{name}: frames have {c} channels; expected 1, 3 or 4")
    return frames


def _to_uint8(frames: np.ndarray, name: str, notes: list[str]) -> np.ndarray:
    if frames.dtype == np.uint8:
        return frames
    if np.issubdtype(frames.dtype, np.floating):
        if not np.isfinite(frames).all():
            raise SampleError(f"{name}: frames contain NaN or infinite values")
        scale = 255.0 if frames.size and frames.max() <= 1.0 else 1.0
        notes.append(f"float frames converted to uint8 (scale {scale:g})")
        return np.clip(np.rint(frames * scale), 0, 255).astype(np.uint8)
    raise SampleError(f"{name}: frames have dtype {frames.dtype}; expected uint8 or float")


def resample_frames_nearest(n_frames: int, fps: float, target: float = SYNC_FPS) -> np.ndarray:
    """Source frame index for each output frame at ``target`` fps (nearest frame in time)."""
    n_out = int(np.floor(n_frames * target / fps + 1e-9))
    idx = np.floor(np.arange(n_out) * fps / target + 0.5).astype(np.int64)
    return np.minimum(idx, n_frames - 1)


def prepare_frames(frames: np.ndarray, fps: float = SYNC_FPS, resize: bool | None = True,
                   name: str = "clip") -> tuple[np.ndarray, list[str]]:
    """Frames as uint8 BGR (T,224,224,3) at 25 fps, plus notes of what was converted.

    ``resize=True`` allows the whole-frame bilinear resize of the Wav2Lip LRS protocol; with
    ``False`` a frame size other than 224×224 is an error (face crops must already be 224);
    ``None`` keeps the size (frames that go on to face detection).
    """
    notes: list[str] = []
    frames = np.asarray(frames)
    frames = _to_uint8(_to_three_channels(frames, name, notes), name, notes)
    if frames.shape[0] == 0:
        raise SampleError(f"{name}: no frames")
    if fps <= 0 or not np.isfinite(fps):
        raise SampleError(f"{name}: invalid fps {fps}")
    if abs(fps - SYNC_FPS) > 1e-6:
        idx = resample_frames_nearest(frames.shape[0], fps)
        notes.append(f"resampled {frames.shape[0]} frames at {fps:g} fps to {len(idx)} at 25 fps (nearest frame)")
        frames = frames[idx]
    h, w = frames.shape[1:3]
    if resize is not None and (h, w) != (SYNC_SIZE, SYNC_SIZE):
        if not resize:
            raise SampleError(f"{name}: frames are {h}x{w}; this protocol needs 224x224 face crops")
        notes.append(f"frames resized from {h}x{w} to 224x224 (bilinear)")
        frames = np.stack([cv2.resize(f, (SYNC_SIZE, SYNC_SIZE), interpolation=cv2.INTER_LINEAR)
                           for f in frames])
    return np.ascontiguousarray(frames), notes


def prepare_audio(audio: np.ndarray, sample_rate: int = SYNC_RATE,
                  name: str = "clip") -> tuple[np.ndarray, list[str]]:
    """Audio as int16 mono at 16 kHz (float input is scaled by 32768), plus notes."""
    notes: list[str] = []
    a = np.asarray(audio)
    if a.ndim == 2 and a.shape[1] in (1, 2):
        if a.shape[1] == 2:
            notes.append("stereo audio averaged to mono")
        a = a.mean(axis=1) if a.shape[1] == 2 else a[:, 0]
    if a.ndim != 1:
        raise SampleError(f"{name}: audio must be mono (N,), got shape {np.shape(audio)}")
    if a.size == 0:
        raise SampleError(f"{name}: audio is empty")
    is_float = np.issubdtype(a.dtype, np.floating)
    if not is_float and a.dtype != np.int16:
        raise SampleError(f"{name}: audio dtype {a.dtype}; expected int16 or float in [-1, 1]")
    if is_float and not np.isfinite(a).all():
        raise SampleError(f"{name}: audio contains NaN or infinite values")
    x = a.astype(np.float64) * (32768.0 if is_float else 1.0)
    if is_float:
        notes.append("float audio scaled to int16 range (x32768)")
    if sample_rate != SYNC_RATE:
        if sample_rate <= 0:
            raise SampleError(f"{name}: invalid sample rate {sample_rate}")
        from scipy.signal import resample_poly  # here: scipy.signal takes a second to import

        g = np.gcd(int(sample_rate), SYNC_RATE)
        x = resample_poly(x, SYNC_RATE // g, int(sample_rate) // g)
        notes.append(f"audio resampled from {sample_rate} Hz to 16000 Hz")
    if is_float or sample_rate != SYNC_RATE:
        x = np.clip(np.rint(x), -32768, 32767)
    return x.astype(np.int16), notes

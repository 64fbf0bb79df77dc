"""Wav2Lip's audio front-end: the 80-band log-mel spectrogram and its per-frame windows.

Constants follow Wav2Lip's ``hparams.py``: 16 kHz audio, 50 ms windows with a 12.5 ms hop
(80 mel frames per second, 3.2 per 25 fps video frame), 80 mel bands between 55 and 7600 Hz,
pre-emphasis 0.97, dB relative to 20 dB and a symmetric normalisation to [-4, 4].
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import librosa
import numpy as np
from scipy.signal import lfilter


@dataclass(frozen=True)
class MelConfig:
    """Parameters of the mel spectrogram (defaults are Wav2Lip's)."""

    sample_rate: int = 16000
    n_fft: int = 800
    win_size: int = 800
    hop_size: int = 200
    num_mels: int = 80
    fmin: float = 55.0
    fmax: float = 7600.0
    preemphasis: float = 0.97
    ref_level_db: float = 20.0
    min_level_db: float = -100.0
    max_abs_value: float = 4.0

    @property
    def mel_fps(self) -> float:
        """Mel frames per second (80 with the defaults)."""
        return self.sample_rate / self.hop_size


DEFAULT = MelConfig()
SYNC_STEPS = 16  # mel frames per 5-frame (0.2 s) window at 25 fps
SILENCE = -DEFAULT.max_abs_value  # normalised value of a silent (floored) bin


@lru_cache(maxsize=4)
def _mel_basis(cfg: MelConfig) -> np.ndarray:
    # Slaney-normalised, non-HTK filters: librosa's defaults, as the reference used them.
    return librosa.filters.mel(
        sr=cfg.sample_rate, n_fft=cfg.n_fft, n_mels=cfg.num_mels, fmin=cfg.fmin, fmax=cfg.fmax
    )


def melspectrogram(wav: np.ndarray, cfg: MelConfig = DEFAULT) -> np.ndarray:
    """Normalised log-mel spectrogram of a mono waveform, float32 of shape (num_mels, n_frames).

    ``n_frames = 1 + len(wav) // hop_size`` (centred frames).
    """
    wav = np.asarray(wav)
    if wav.ndim != 1:
        raise ValueError(f"melspectrogram expects mono audio of shape (n,), got {wav.shape}")
    if wav.size == 0:
        raise ValueError("melspectrogram got empty audio")
    wav = wav.astype(np.float64, copy=False)
    if not np.all(np.isfinite(wav)):
        raise ValueError("melspectrogram got audio with NaN or infinite samples")
    emphasised = lfilter([1.0, -cfg.preemphasis], [1.0], wav)
    # Wav2Lip ran on librosa 0.7, whose STFT padded centred frames by reflection; librosa >= 0.10
    # pads with zeros by default, so the mode is given explicitly. Reflection needs > n_fft/2 samples.
    pad_mode = "reflect" if emphasised.size > cfg.n_fft // 2 else "constant"
    spec = np.abs(
        librosa.stft(
            emphasised,
            n_fft=cfg.n_fft,
            hop_length=cfg.hop_size,
            win_length=cfg.win_size,
            pad_mode=pad_mode,
        )
    )
    mel = _mel_basis(cfg) @ spec
    db = 20.0 * np.log10(np.maximum(1e-5, mel)) - cfg.ref_level_db
    return normalize(db, cfg).astype(np.float32)


def normalize(db: np.ndarray, cfg: MelConfig = DEFAULT) -> np.ndarray:
    """Map dB values to [-max_abs, max_abs]; ``min_level_db`` maps to -max_abs."""
    m = cfg.max_abs_value
    scaled = (2 * m) * ((db - cfg.min_level_db) / (-cfg.min_level_db)) - m
    return np.clip(scaled, -m, m)


def denormalize(spec: np.ndarray, cfg: MelConfig = DEFAULT) -> np.ndarray:
    """Inverse of :func:`normalize` (exact for values inside the clip range)."""
    m = cfg.max_abs_value
    return ((np.clip(spec, -m, m) + m) * (-cfg.min_level_db) / (2 * m)) + cfg.min_level_db


def window_start(frame_index: int, fps: float = 25.0, mel_fps: float = DEFAULT.mel_fps) -> int:
    """First mel frame of video frame ``frame_index``: ``int(mel_fps * frame / fps)``."""
    return int(mel_fps * frame_index / fps)


def mel_window(
    mel: np.ndarray, frame_index: int, fps: float = 25.0, steps: int = SYNC_STEPS
) -> np.ndarray:
    """The ``steps`` mel frames starting at video frame ``frame_index`` (training windows).

    ``mel`` is (num_mels, n_frames); raises ValueError when the window runs past the end, as
    training samples such windows are rejected rather than padded.
    """
    if frame_index < 0:
        raise ValueError(f"frame_index must be >= 0, got {frame_index}")
    start = window_start(frame_index, fps)
    end = start + steps
    if end > mel.shape[-1]:
        raise ValueError(
            f"mel window of frame {frame_index} needs mel frames [{start}, {end}) "
            f"but the spectrogram has {mel.shape[-1]}"
        )
    return mel[:, start:end]


def frame_windows(
    mel: np.ndarray, n_frames: int, fps: float = 25.0, steps: int = SYNC_STEPS, end: str = "clamp",
    offset: int = 0,
) -> np.ndarray:
    """One ``steps``-long mel window per video frame, shape (n_frames, num_mels, steps).

    Frame i's window starts at video frame ``i + offset``: 0 is Wav2Lip's ``inference.py``;
    -1 is the pairing its training uses (``get_segmented_mels``: frame k with the window
    starting at frame k-1). Windows before the start of the audio are padded with silence.
    Near the end of the audio a window would run past the spectrogram: ``end="clamp"`` takes the
    last ``steps`` frames instead (what Wav2Lip's inference does); ``end="pad"`` keeps the start
    and pads with silence. Spectrograms shorter than one window are always padded with silence.
    """
    if end not in ("clamp", "pad"):
        raise ValueError(f"end must be 'clamp' or 'pad', got {end!r}")
    if n_frames < 0:
        raise ValueError(f"n_frames must be >= 0, got {n_frames}")
    starts = [window_start(i + offset, fps) for i in range(n_frames)]
    lead = max(0, -min(starts, default=0))
    if lead:  # windows before the audio: silence in front, every start moved along
        mel = np.concatenate([np.full((mel.shape[0], lead), SILENCE, dtype=mel.dtype), mel], axis=1)
        starts = [s + lead for s in starts]
    total = mel.shape[-1]
    need = max([s + steps for s in starts], default=steps)
    if end == "pad" or total < steps:
        if need > total:
            pad = np.full((mel.shape[0], need - total), SILENCE, dtype=mel.dtype)
            mel = np.concatenate([mel, pad], axis=1)
    else:
        starts = [min(s, total - steps) for s in starts]
    out = np.empty((n_frames, mel.shape[0], steps), dtype=mel.dtype)
    for i, s in enumerate(starts):
        out[i] = mel[:, s : s + steps]
    return out

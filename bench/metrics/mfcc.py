"""MFCC features exactly as SyncNet expects them (python_speech_features 0.6 ``mfcc`` defaults).

SyncNet was trained on MFCCs of int16-scale samples: 25 ms rectangular frames every 10 ms,
512-point power spectrum, 26 mel filters, log, orthonormal DCT-II, 13 cepstra, lifter 22 and c0
replaced by the log frame energy. Framing is vectorised with a strided view.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.fft import dct

__all__ = ["mel_filterbank", "mfcc"]

_EPS = np.finfo(float).eps


def _hz2mel(hz: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)


def _mel2hz(mel: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(mel) / 2595.0) - 1.0)


@lru_cache(maxsize=8)
def mel_filterbank(nfilt: int = 26, nfft: int = 512, sample_rate: int = 16000,
                   lowfreq: float = 0.0, highfreq: float | None = None) -> np.ndarray:
    """Triangular mel filters (nfilt × nfft//2+1) on integer FFT bins, as python_speech_features."""
    highfreq = highfreq or sample_rate / 2
    mel = np.linspace(_hz2mel(lowfreq), _hz2mel(highfreq), nfilt + 2)
    bins = np.floor((nfft + 1) * _mel2hz(mel) / sample_rate)
    lo, mid, hi = bins[:-2, None], bins[1:-1, None], bins[2:, None]
    i = np.arange(nfft // 2 + 1)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        rise = np.where((i >= lo) & (i < mid), (i - lo) / (mid - lo), 0.0)
        fall = np.where((i >= mid) & (i < hi), (hi - i) / (hi - mid), 0.0)
    fb = rise + fall
    fb.setflags(write=False)
    return fb


def _frames(signal: np.ndarray, frame_len: int, frame_step: int) -> np.ndarray:
    """Overlapping frames with the zero-padded tail (the last frame may run past the end)."""
    n = len(signal)
    count = 1 if n <= frame_len else 1 + int(np.ceil((n - frame_len) / frame_step))
    padded = np.zeros((count - 1) * frame_step + frame_len)
    padded[:n] = signal
    return sliding_window_view(padded, frame_len)[::frame_step]


def mfcc(signal: np.ndarray, sample_rate: int = 16000, winlen: float = 0.025,
         winstep: float = 0.01, numcep: int = 13, nfilt: int = 26, nfft: int = 512,
         preemph: float = 0.97, ceplifter: int = 22) -> np.ndarray:
    """MFCCs (n_frames × numcep, float64) of a mono signal; 640·N samples give 4N − 1 frames."""
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"mfcc expects a non-empty mono 1-D signal, got shape {x.shape}")
    x = np.concatenate([x[:1], x[1:] - preemph * x[:-1]])
    # Round half up, as the reference does, so 0.025*16000 -> 400 and 0.01*16000 -> 160.
    frame_len = int(np.floor(winlen * sample_rate + 0.5))
    frame_step = int(np.floor(winstep * sample_rate + 0.5))
    frames = _frames(x, frame_len, frame_step)
    pspec = np.abs(np.fft.rfft(frames, nfft)) ** 2 / nfft
    energy = pspec.sum(axis=1)
    energy = np.where(energy == 0, _EPS, energy)
    feat = pspec @ mel_filterbank(nfilt, nfft, sample_rate).T
    feat = np.where(feat == 0, _EPS, feat)
    cep = dct(np.log(feat), type=2, axis=1, norm="ortho")[:, :numcep]
    if ceplifter > 0:
        cep = cep * (1.0 + (ceplifter / 2.0) * np.sin(np.pi * np.arange(numcep) / ceplifter))
    cep[:, 0] = np.log(energy)
    return cep

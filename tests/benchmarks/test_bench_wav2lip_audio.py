"""Speed of the Wav2Lip mel front-end next to the same pipeline written out with numpy."""

from __future__ import annotations

import numpy as np
import pytest

from reference_models.wav2lip import audio

pytest.importorskip("pytest_benchmark")

WAV = (0.3 * np.random.default_rng(0).standard_normal(16000 * 10)).astype(np.float32)


def _numpy_pipeline(wav: np.ndarray) -> np.ndarray:
    # Same steps as the authors' audio.py, with a framed numpy FFT in place of librosa.stft.
    import librosa
    from scipy.signal import get_window

    x = np.concatenate([[wav[0]], wav[1:] - 0.97 * wav[:-1]]).astype(np.float64)
    x = np.pad(x, 400, mode="reflect")
    n = 1 + (len(x) - 800) // 200
    frames = np.lib.stride_tricks.sliding_window_view(x, 800)[::200][:n].T * get_window("hann", 800)[:, None]
    mag = np.abs(np.fft.rfft(frames, axis=0))
    basis = librosa.filters.mel(sr=16000, n_fft=800, n_mels=80, fmin=55, fmax=7600)
    db = 20 * np.log10(np.maximum(1e-5, basis @ mag)) - 20
    return np.clip(8 * (db + 100) / 100 - 4, -4, 4)


def test_bench_melspectrogram_10s(benchmark):
    out = benchmark(audio.melspectrogram, WAV)
    assert out.shape == (80, 801)


def test_bench_numpy_pipeline_10s(benchmark):
    out = benchmark(_numpy_pipeline, WAV)
    np.testing.assert_allclose(out, audio.melspectrogram(WAV), atol=2e-4)


def test_bench_frame_windows_10s(benchmark):
    mel = audio.melspectrogram(WAV)
    out = benchmark(audio.frame_windows, mel, 250)
    assert out.shape == (250, 80, 16)

"""MFCC parity with python_speech_features (the reference SyncNet used)."""

from __future__ import annotations

import numpy as np
import pytest
from python_speech_features import mfcc as ref_mfcc
from python_speech_features.base import get_filterbanks

from bench.metrics.mfcc import mel_filterbank, mfcc


def _speech_like(n: int, seed: int = 0) -> np.ndarray:
    """Harmonic voiced sound with a syllable-rate envelope plus noise, int16 scale."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 16000
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / 16000
    voiced = sum(np.sin(k * phase) / k for k in range(1, 15))
    env = np.clip(np.sin(2 * np.pi * 4 * t), 0, None)
    x = 8000 * env * voiced + 300 * rng.standard_normal(n)
    return np.clip(x, -32768, 32767).astype(np.int16)


def test_filterbank_matches_reference():
    np.testing.assert_allclose(mel_filterbank(26, 512, 16000), get_filterbanks(26, 512, 16000), rtol=0, atol=1e-12)


@pytest.mark.parametrize("n", [640 * 25, 640 * 7 + 123, 399, 400, 401, 1])
def test_parity_random(n):
    x = np.random.default_rng(n).integers(-32768, 32767, n).astype(np.int16)
    ours, ref = mfcc(x, 16000), ref_mfcc(x, 16000)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-9)


def test_parity_speech_like_with_silence():
    x = _speech_like(16000 * 3)
    x[16000:20000] = 0  # exact silence exercises the eps floor of the filterbank energies
    ours, ref = mfcc(x, 16000), ref_mfcc(x, 16000)
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-9)


def test_frame_count_per_video_frame():
    for n_video in (5, 25, 100):
        assert mfcc(np.zeros(640 * n_video, np.int16)).shape == (4 * n_video - 1, 13)


def test_float_scale_shifts_only_c0():
    x = _speech_like(16000)
    a = mfcc(x.astype(np.float64))
    b = mfcc(x.astype(np.float64) / 32768.0)
    np.testing.assert_allclose(a[:, 1:], b[:, 1:], atol=1e-8)
    np.testing.assert_allclose(a[:, 0] - b[:, 0], 2 * np.log(32768.0), rtol=1e-9)


def test_rejects_empty_and_stereo():
    with pytest.raises(ValueError, match="mono"):
        mfcc(np.zeros(0))
    with pytest.raises(ValueError, match="mono"):
        mfcc(np.zeros((100, 2)))

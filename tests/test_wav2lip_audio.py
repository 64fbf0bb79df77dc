"""Wav2Lip audio front-end: frame rate, value range, parity with a plain numpy STFT, windows."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
from scipy.signal import get_window

from reference_models.wav2lip import audio

SR = 16000


def _tone(freq: float, seconds: float, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(SR * seconds)) / SR
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _numpy_mel(wav: np.ndarray) -> np.ndarray:
    """The same pipeline written out with numpy: pre-emphasis, reflect-padded Hann STFT, dB."""
    x = np.asarray(wav, dtype=np.float64)
    x = np.concatenate([[x[0]], x[1:] - 0.97 * x[:-1]])
    x = np.pad(x, 400, mode="reflect")
    win = get_window("hann", 800, fftbins=True)
    n = 1 + (len(x) - 800) // 200
    frames = np.stack([x[i * 200 : i * 200 + 800] * win for i in range(n)], axis=1)
    mag = np.abs(np.fft.rfft(frames, axis=0))
    basis = librosa.filters.mel(sr=SR, n_fft=800, n_mels=80, fmin=55, fmax=7600)
    db = 20 * np.log10(np.maximum(1e-5, basis @ mag)) - 20
    return np.clip(8 * (db + 100) / 100 - 4, -4, 4)


def test_shape_and_frame_rate():
    wav = _tone(440, 2.0)
    mel = audio.melspectrogram(wav)
    assert mel.dtype == np.float32
    assert mel.shape == (80, 1 + len(wav) // 200)
    assert mel.shape[1] == 161  # 80 mel frames per second, centred


def test_matches_numpy_pipeline():
    rng = np.random.default_rng(0)
    wav = (0.3 * rng.standard_normal(SR)).astype(np.float32)
    np.testing.assert_allclose(audio.melspectrogram(wav), _numpy_mel(wav), atol=2e-4)


def test_range_silence_and_tone_peak():
    mel_silence = audio.melspectrogram(np.zeros(SR, np.float32))
    assert np.all(mel_silence == -4.0)
    loud = audio.melspectrogram(np.clip(_tone(1000, 1.0, amp=1.0) * 50, -1, 1))
    assert loud.min() >= -4.0 and loud.max() <= 4.0
    mel = audio.melspectrogram(_tone(1000, 1.0))
    centre = librosa.mel_frequencies(n_mels=82, fmin=55, fmax=7600)[1:-1]
    peak_band = int(np.argmax(mel[:, 40]))
    assert abs(centre[peak_band] - 1000) < 120


def test_normalize_roundtrip():
    db = np.linspace(-100, 0, 11)
    np.testing.assert_allclose(audio.denormalize(audio.normalize(db)), db, atol=1e-9)
    assert audio.normalize(np.array([-100.0, 0.0, 50.0, -300.0])).tolist() == [-4, 4, 4, -4]


def test_bad_audio_raises():
    with pytest.raises(ValueError, match="mono"):
        audio.melspectrogram(np.zeros((2, 100)))
    with pytest.raises(ValueError, match="empty"):
        audio.melspectrogram(np.zeros(0))
    with pytest.raises(ValueError, match="NaN"):
        audio.melspectrogram(np.array([0.0, np.nan] * 500))


def test_mel_window_start_and_bounds():
    mel = np.arange(80 * 100, dtype=np.float32).reshape(80, 100)
    assert audio.window_start(0) == 0
    assert audio.window_start(1) == 3  # int(3.2)
    assert audio.window_start(5) == 16
    assert audio.window_start(7) == 22  # int(22.4)
    w = audio.mel_window(mel, 7)
    assert w.shape == (80, 16)
    np.testing.assert_array_equal(w, mel[:, 22:38])
    with pytest.raises(ValueError, match="has 100"):
        audio.mel_window(mel, 27)  # starts at 86, needs 102


def test_frame_windows_clamp_matches_reference_loop():
    mel = np.random.default_rng(1).standard_normal((80, 161)).astype(np.float32)
    # Wav2Lip's inference loop: windows until one would run past the end, then the last 16.
    expected, i = [], 0
    while True:
        s = int(i * 80 / 25)
        if s + 16 > mel.shape[1]:
            expected.append(mel[:, -16:])
            break
        expected.append(mel[:, s : s + 16])
        i += 1
    got = audio.frame_windows(mel, len(expected))
    assert got.shape == (len(expected), 80, 16)
    np.testing.assert_array_equal(got, np.stack(expected))


def test_frame_windows_pad_and_short_audio():
    mel = np.ones((80, 20), np.float32)
    got = audio.frame_windows(mel, 3, end="pad")
    assert got.shape == (3, 80, 16)
    np.testing.assert_array_equal(got[2, :, :4], 1.0)  # starts at 6: frames 6..19 real
    np.testing.assert_array_equal(got[2, :, 14:], audio.SILENCE)
    short = audio.frame_windows(np.ones((80, 5), np.float32), 1)
    assert short.shape == (1, 80, 16) and np.all(short[0, :, 5:] == audio.SILENCE)
    with pytest.raises(ValueError, match="end must be"):
        audio.frame_windows(mel, 2, end="wrap")


def test_frame_windows_offset_starts_earlier_with_silence_before_the_audio():
    mel = np.random.default_rng(2).standard_normal((80, 100)).astype(np.float32)
    plain, early = audio.frame_windows(mel, 20), audio.frame_windows(mel, 20, offset=-1)
    np.testing.assert_array_equal(early[1:], plain[:-1])
    # frame 0's window starts 3 mel steps (int(80 / 25)) before the audio: silence there
    np.testing.assert_array_equal(early[0, :, :3], audio.SILENCE)
    np.testing.assert_array_equal(early[0, :, 3:], mel[:, :13])


def test_frame_count_matches_clip_contract():
    wav = _tone(300, 1.37)
    n_frames = int(len(wav) * 25 // SR)
    wins = audio.frame_windows(audio.melspectrogram(wav), n_frames)
    assert wins.shape[0] == n_frames == 34

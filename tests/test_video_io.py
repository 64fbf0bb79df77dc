"""Video I/O through PyAV: round trips, frame-rate and audio resampling, and bad files."""

from __future__ import annotations

import numpy as np
import pytest

from bench.interfaces import SampleError
from bench.video import VideoError, read_video, resample_frame_times, write_video


def _counter_frames(n: int, size: int = 64) -> np.ndarray:
    """Frames whose grey level encodes their index (index * 8), robust to lossy coding."""
    frames = np.zeros((n, size, size, 3), np.uint8)
    frames[:] = (np.arange(n) * 8 % 256)[:, None, None, None]
    return frames


def _index_of(frames: np.ndarray) -> np.ndarray:
    return np.round(frames[:, 16:48, 16:48].mean((1, 2, 3)) / 8).astype(int)


def _sine(sr: int, seconds: float, hz: float = 440.0, amp: float = 0.5) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * hz * np.arange(int(sr * seconds)) / sr)).astype(np.float32)


def test_round_trip_h264_with_audio(tmp_path):
    frames = _counter_frames(30)
    path = write_video(tmp_path / "a.mp4", frames, 25, _sine(16000, 1.2), 16000)
    v = read_video(path)
    assert v.frames.shape == (30, 64, 64, 3) and v.frames.dtype == np.uint8
    assert v.fps == 25.0 and v.sample_rate == 16000
    assert list(_index_of(v.frames)) == list(range(30))
    assert v.meta["codec"] == "h264" and not v.meta["variable_frame_rate"]
    assert v.audio.dtype == np.float32 and abs(len(v.audio) - 19200) < 1100
    spec = np.abs(np.fft.rfft(v.audio[2000:18000]))
    assert abs(np.argmax(spec) * 16000 / 16000 - 440) < 2


def test_mpeg4_encoder(tmp_path):
    path = write_video(tmp_path / "m.mp4", _counter_frames(10), 25, _sine(16000, 0.4), 16000,
                       codec="mpeg4")
    v = read_video(path)
    assert v.meta["codec"] == "mpeg4" and list(_index_of(v.frames)) == list(range(10))


def test_30fps_is_resampled_to_25fps_like_ffmpeg(tmp_path):
    path = write_video(tmp_path / "b.mp4", _counter_frames(30), 30, _sine(16000, 1.0), 16000)
    v = read_video(path)
    assert len(v.frames) == 25 and v.meta["source_fps"] == pytest.approx(30.0)
    # slot k shows the last source frame whose time rounds to slot <= k
    expected = [int(np.searchsorted(np.floor(np.arange(30) / 30 * 25 + 0.5), k, "right") - 1)
                for k in range(25)]
    assert list(_index_of(v.frames)) == expected
    assert expected[:6] == [0, 1, 2, 4, 5, 6]  # one source frame in six is dropped


def test_variable_frame_rate_lands_on_a_regular_grid(tmp_path):
    steps = np.where(np.arange(29) % 2, 0.02, 0.05)  # alternating 50 ms / 20 ms frames
    times = np.concatenate([[0.0], np.cumsum(steps)])
    path = write_video(tmp_path / "vfr.mp4", _counter_frames(30), 25, _sine(16000, 1.1), 16000,
                       frame_times=times)
    v = read_video(path)
    assert v.meta["variable_frame_rate"]
    idx = _index_of(v.frames)
    assert list(idx) == list(resample_frame_times(times, times[-1] + np.median(steps), 25.0))
    assert np.all(np.diff(idx) >= 0) and len(v.frames) == pytest.approx(times[-1] * 25, abs=1.5)


def test_stereo_44k_audio_becomes_16k_mono_at_the_same_level(tmp_path):
    a = _sine(44100, 1.0, hz=1000.0, amp=0.4)
    path = write_video(tmp_path / "s.mp4", _counter_frames(25), 25, np.stack([a, a], 1), 44100)
    v = read_video(path)
    assert v.meta["source_sample_rate"] == 44100 and v.meta["source_channels"] == 2
    assert v.audio.ndim == 1 and abs(len(v.audio) - 16000) < 1100
    mid = v.audio[2000:14000]
    assert np.sqrt(np.mean(mid**2)) == pytest.approx(0.4 / np.sqrt(2), rel=0.05)
    spec = np.abs(np.fft.rfft(mid))
    assert abs(np.argmax(spec) * 16000 / len(mid) - 1000) < 3


def test_missing_audio_stream_is_named(tmp_path):
    path = write_video(tmp_path / "silent.mp4", _counter_frames(10), 25)
    with pytest.raises(VideoError, match=r"silent\.mp4: no audio stream"):
        read_video(path)
    assert len(read_video(path, require_audio=False).frames) == 10


def test_too_few_frames_is_named(tmp_path):
    path = write_video(tmp_path / "short.mp4", _counter_frames(3), 25, _sine(16000, 0.12), 16000)
    with pytest.raises(VideoError, match=r"short\.mp4: only 3 frames"):
        read_video(path)


def test_corrupt_truncated_and_missing_files_are_named(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(VideoError, match=r"junk\.mp4"):
        read_video(junk)
    good = write_video(tmp_path / "good.mp4", _counter_frames(30), 25, _sine(16000, 1.2), 16000)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(VideoError, match=r"cut\.mp4"):
        read_video(cut)
    with pytest.raises(VideoError, match=r"nothere\.mp4: file not found"):
        read_video(tmp_path / "nothere.mp4")
    assert issubclass(VideoError, SampleError)  # the harness records it per sample


def test_writer_rejects_bad_frames(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        write_video(tmp_path / "x.mp4", np.zeros((5, 64, 64, 3), np.float32))
    with pytest.raises(ValueError, match="even"):
        write_video(tmp_path / "x.mp4", np.zeros((5, 63, 64, 3), np.uint8))

"""Real-corpus adapters (LRS2, HDTF, video folder) on small mp4 files written in their layouts.

The videos are rendered synthetic faces upscaled to 256 px, on which OpenCV's Haar detector
finds the face; a stub detector exercises the tracking rules where exact control is needed.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bench.datasets.talking_face.real import (
    FaceTrackError, load_hdtf, load_lrs2, load_video_folder, track_face,
)
from bench.datasets.talking_face.render import make_identity, motion_params, render_clip, static_layer
from bench.interfaces import SampleError
from bench.samples import Clip
from bench.video import write_video

pytest.importorskip("bench.video.facetrack")

PHONES = [("SIL", 0, 0.2), ("M", 0.2, 0.3), ("AA1", 0.3, 0.6), ("P", 0.6, 0.7), ("IY1", 0.7, 1.0),
          ("SIL", 1.0, 1.6)]
N = 40


@pytest.fixture(scope="module")
def face_video():
    ident = make_identity("f4", 4)  # an identity the Haar cascade detects in every frame at 256 px
    frames, boxes = render_clip(ident, PHONES, N, motion_params(3, N))
    big = np.stack([cv2.resize(f, (256, 256), interpolation=cv2.INTER_CUBIC) for f in frames])
    empty = cv2.resize(static_layer(ident), (256, 256), interpolation=cv2.INTER_AREA)
    audio = (0.1 * np.random.default_rng(0).standard_normal(int(16000 * N / 25))).astype(np.float32)
    return big, boxes * 2, audio, empty


def _write(path, frames, audio, sr=16000, **kw):
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_video(path, frames, 25, audio, sr, **kw)


@pytest.fixture(scope="module")
def lrs2_root(tmp_path_factory, face_video):
    frames, _, audio, empty = face_video
    root = tmp_path_factory.mktemp("lrs2")
    _write(root / "main/111/00001.mp4", frames, audio)
    _write(root / "main/111/00002.mp4", frames, None)  # no audio stream
    (root / "main/222").mkdir(parents=True)
    (root / "main/222/00001.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(3000))  # corrupt
    lost = frames.copy()
    lost[N // 2:] = empty  # the face disappears half way
    _write(root / "main/333/00001.mp4", lost, audio)
    _write(root / "main/333/00002.mp4", frames[:3], audio[:1920])  # 3 frames
    (root / "test.txt").write_text("111/00001 NF\n111/00002 NF\n222/00001 MV\n222/00002\n"
                                   "333/00001\n333/00002\n")
    return root


def test_lrs2_good_clip_tracks_the_face(lrs2_root, tmp_path, face_video):
    _, true_boxes, audio, _ = face_video
    ds = load_lrs2(lrs2_root, cache_dir=tmp_path)
    split = ds.split("test")
    assert split.ids == ["111/00001", "111/00002", "222/00001", "222/00002", "333/00001",
                         "333/00002"]
    clip = split.get("111/00001")
    assert isinstance(clip, Clip) and clip.frames.shape == (N, 256, 256, 3)
    assert clip.n_output_frames == N and np.array_equal(clip.target, clip.frames)
    # the tracked box sits on the rendered face: its centre within 12 px of the true box centre
    centre = (clip.face_boxes[:, :2] + clip.face_boxes[:, 2:]) / 2
    true_centre = (true_boxes[:, :2] + true_boxes[:, 2:]) / 2
    assert np.abs(centre - true_centre).max() < 12
    assert ds.face_crops("test", "111/00001").shape == (N, 96, 96, 3)
    assert np.corrcoef(clip.audio[:16000], audio[:16000])[0, 1] > 0.9


def test_lrs2_bad_files_are_named_and_the_rest_goes_on(lrs2_root, tmp_path):
    ds = load_lrs2(lrs2_root, cache_dir=tmp_path)
    problems = {p.sample_id: p.message for p in ds.scan("test")}
    assert set(problems) == {"111/00002", "222/00001", "222/00002", "333/00001", "333/00002"}
    assert "111/00002.mp4: no audio stream" in problems["111/00002"]
    assert "222/00001.mp4" in problems["222/00001"] and "corrupt" in problems["222/00001"]
    assert "222/00002.mp4: file not found" in problems["222/00002"]
    assert "333/00001.mp4: face lost at frame" in problems["333/00001"]
    assert "333/00002.mp4: only 3 frames" in problems["333/00002"]
    for sid in problems:
        with pytest.raises(SampleError):
            ds.split("test").get(sid)
    assert ds.split("test").get("111/00001").frames.shape[0] == N


def test_cached_preprocessing_is_reused(lrs2_root, tmp_path):
    calls = []

    def counting(frame_bgr):

        calls.append(1)
        return counting.haar(frame_bgr)

    from bench.video.facetrack import HaarDetector

    counting.haar = HaarDetector()
    a = load_lrs2(lrs2_root, detector=counting, cache_dir=tmp_path).split("test").get("111/00001")
    assert len(calls) == N
    b = load_lrs2(lrs2_root, detector=counting, cache_dir=tmp_path).split("test").get("111/00001")
    assert len(calls) == N and np.array_equal(a.face_boxes, b.face_boxes)


def test_hdtf_stereo_44k_and_variable_frame_rate(tmp_path, face_video):
    frames, _, audio, _ = face_video
    root = tmp_path / "hdtf"
    t = np.arange(int(44100 * N / 25)) / 44100
    stereo = np.stack([0.3 * np.sin(2 * np.pi * 300 * t), 0.3 * np.sin(2 * np.pi * 300 * t)], 1)
    _write(root / "videos/WDA_Someone_000.mp4", frames, stereo.astype(np.float32), 44100)
    times = np.cumsum(np.r_[0, np.where(np.arange(N - 1) % 3 == 0, 0.06, 0.03)])
    _write(root / "videos/WRA_Other_001.mp4", frames, audio, frame_times=times)
    _write(root / "videos/unlisted.mp4", frames, audio)
    (root / "test.txt").write_text("WDA_Someone_000.mp4\nWRA_Other_001\n")
    ds = load_hdtf(root, cache_dir=tmp_path / "c")
    split = ds.split("test")
    assert split.ids == ["WDA_Someone_000", "WRA_Other_001"]
    a = split.get("WDA_Someone_000")
    assert a.sample_rate == 16000 and a.audio.ndim == 1
    assert np.sqrt(np.mean(a.audio[2000:12000] ** 2)) == pytest.approx(0.3 / np.sqrt(2), rel=0.1)
    b = split.get("WRA_Other_001")
    assert len(b.frames) == pytest.approx(times[-1] * 25, abs=2)
    assert any("44100 Hz" in n and "WDA_Someone_000.mp4" in n for n in ds.notes)
    assert any("variable frame rate" in n and "WRA_Other_001.mp4" in n for n in ds.notes)
    assert ds.problems == []


def test_video_folder_and_manifest_hash(tmp_path, face_video):
    frames, _, audio, _ = face_video
    _write(tmp_path / "vids/b.mp4", frames, audio)
    _write(tmp_path / "vids/a.mp4", frames[:20], audio[:12800])
    ds = load_video_folder(tmp_path / "vids", cache_dir=tmp_path / "c")
    split = ds.split("test")
    assert split.ids == ["a", "b"]
    assert len(split.get("a").frames) == 20
    h = split.manifest_hash
    (tmp_path / "vids/a.mp4").write_bytes((tmp_path / "vids/a.mp4").read_bytes() + b"\0")
    assert load_video_folder(tmp_path / "vids").split("test").manifest_hash != h


def test_missing_roots_and_lists_give_clear_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("BENCH_LRS2_ROOT", raising=False)
    with pytest.raises(FileNotFoundError, match="BENCH_LRS2_ROOT"):
        load_lrs2()
    monkeypatch.setenv("BENCH_HDTF_ROOT", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_hdtf()
    with pytest.raises(FileNotFoundError, match="test.txt"):
        load_lrs2(tmp_path)
    with pytest.raises(FileNotFoundError, match="no .mp4 files"):
        load_video_folder(tmp_path)
    monkeypatch.setenv("BENCH_VIDEO_FOLDER", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no .mp4 files"):
        load_video_folder()


class StubDetector:
    """Returns a fixed box on frames listed as visible, nothing elsewhere."""

    def __init__(self, visible):
        self.visible, self.i = set(visible), 0

    def __call__(self, frame_bgr):
        i, self.i = self.i, self.i + 1
        return np.array([[40.0 + i * 0.5, 30, 140 + i * 0.5, 140, 0.99]]) if i in self.visible else np.zeros((0, 5))


def test_track_face_rules_with_a_stub_detector():
    frames = np.zeros((30, 160, 160, 3), np.uint8)
    boxes = track_face(frames, StubDetector(range(30)), "x.mp4")
    assert boxes.shape == (30, 4) and boxes[10, 0] == pytest.approx(45.0)
    # short gaps are interpolated
    gappy = track_face(frames, StubDetector(set(range(30)) - {10, 11, 12}), "x.mp4")
    assert gappy[11, 0] == pytest.approx(45.5)
    # a face lost for longer than the allowed gap is an error naming the file and frame
    with pytest.raises(FaceTrackError, match=r"y\.mp4: face lost at frame 15"):
        track_face(frames, StubDetector(range(15)), "y.mp4")
    with pytest.raises(FaceTrackError, match=r"z\.mp4: no face found"):
        track_face(frames, StubDetector([]), "z.mp4")
    # undetected first frames within the gap allowance hold the first box
    late = track_face(frames, StubDetector(range(3, 30)), "x.mp4")
    assert late[0, 0] == pytest.approx(41.5)

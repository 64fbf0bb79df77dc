"""Simple talking-face baselines: output contract, audio-driven mouth, ground truth, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from bench.interfaces import SampleError
from bench.lazy import resolve
from bench.protocols import TalkingFaceMethod
from bench.samples import Clip
from plugins import talking_face_baselines as tfb
from reference_models import talking_face_baselines as ref

SR, FPS = 16000, 25.0
BOX = (30, 20, 90, 100)  # x0, y0, x1, y1


def make_clip(n_frames=12, n_audio_frames=12, audio=None, target=True, clip_id="c1") -> Clip:
    rng = np.random.default_rng(0)
    frames = rng.integers(60, 200, (n_frames, 120, 110, 3), dtype=np.uint8)
    if audio is None:
        t = np.arange(int(n_audio_frames * SR / FPS)) / SR
        env = np.repeat(np.tile([0.0, 0.05, 0.5, 0.2], n_audio_frames)[:n_audio_frames], SR // 25)
        audio = (env[: len(t)] * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    boxes = np.tile(BOX, (n_frames, 1))
    return Clip(id=clip_id, frames=frames, face_boxes=boxes, audio=audio,
                target=frames if target else None)


def _check_contract(out: np.ndarray, clip: Clip) -> None:
    assert out.dtype == np.uint8
    assert out.shape == (clip.n_output_frames, *clip.frames.shape[1:3], 3)


def test_static_reference_loops_identity_frames_from_elsewhere():
    clip = make_clip(n_frames=10, n_audio_frames=25)
    out = tfb.StaticReference().generate(clip)
    _check_contract(out, clip)
    order = ref.reference_order(10, 25)
    assert order[0] == 5 and np.all(np.abs(np.diff(order)) == 1)  # back and forth, no jump cut
    np.testing.assert_array_equal(out, clip.frames[order])
    # never the target frame of the same time (would copy the true mouth)
    assert all(not np.array_equal(out[i], clip.frames[i]) for i in range(10))
    assert tfb.StaticReference().generate(make_clip(n_frames=1, n_audio_frames=3)).shape[0] == 3


def test_frame_rms_matches_direct_computation():
    audio = np.random.default_rng(1).uniform(-1, 1, 16000).astype(np.float32)
    rms = ref.frame_rms(audio, SR, FPS, 25)
    assert rms.shape == (25,)
    np.testing.assert_allclose(rms[3], np.sqrt(np.mean(audio[1920:2560].astype(np.float64) ** 2)))


def test_openness_follows_energy_and_ignores_volume():
    rms = np.array([0.0, 0.001, 0.01, 0.1, 0.3])
    o = ref.openness(rms)
    assert o[0] == 0 and np.all(np.diff(o) >= 0) and o[-1] == 1
    louder = np.array([0.01, 0.05, 0.1, 0.3])  # all above the silence floor at both volumes
    np.testing.assert_allclose(ref.openness(louder * 0.5), ref.openness(louder), atol=1e-12)
    assert np.all(ref.openness(np.zeros(4)) == 0)


def test_audio_energy_mouth_darkens_with_loudness():
    clip = make_clip()
    out = tfb.AudioEnergyMouth().generate(clip)
    _check_contract(out, clip)
    static = tfb.StaticReference().generate(clip)
    diff = (static.astype(int) - out.astype(int)).sum(axis=(1, 2, 3))
    assert np.all(diff >= 0)  # only darkens
    env = ref.openness(ref.frame_rms(clip.audio, SR, FPS, clip.n_output_frames))
    assert np.all(diff[env == 0] == 0)
    loud, quiet = np.argmax(env), np.argmin(np.where(env > 0, env, np.inf))
    assert diff[loud] > diff[quiet] > 0
    # changes stay inside the lower part of the face box
    changed = np.argwhere((static != out).any(axis=(0, 3)))
    assert changed[:, 0].min() >= BOX[1] + 0.5 * (BOX[3] - BOX[1])
    assert changed[:, 1].min() >= BOX[0] and changed[:, 1].max() < BOX[2]


def test_audio_energy_mouth_silence_is_static_and_deterministic():
    silent = make_clip(audio=np.zeros(int(12 * SR / FPS), np.float32))
    np.testing.assert_array_equal(tfb.AudioEnergyMouth().generate(silent), tfb.StaticReference().generate(silent))
    clip = make_clip()
    np.testing.assert_array_equal(tfb.AudioEnergyMouth().generate(clip), tfb.AudioEnergyMouth().generate(clip))


def test_ground_truth_reconstruction_and_crossdub():
    clip = make_clip(n_frames=12, n_audio_frames=10)
    out = tfb.GroundTruth().generate(clip)
    _check_contract(out, clip)
    np.testing.assert_array_equal(out, clip.frames[:10])
    with pytest.raises(SampleError, match="'dub1'.*no ground-truth"):
        tfb.GroundTruth().generate(make_clip(target=False, clip_id="dub1"))
    with pytest.raises(SampleError, match="target has 12 frames, the audio covers 20"):
        tfb.GroundTruth().generate(make_clip(n_frames=12, n_audio_frames=20))


@pytest.mark.parametrize("method", [tfb.StaticReference(), tfb.AudioEnergyMouth()])
def test_bad_clips_raise_sample_errors(method):
    good = make_clip()
    cases = {
        "NaN": Clip(id="x", frames=good.frames, face_boxes=good.face_boxes,
                    audio=np.full(8000, np.nan, np.float32)),
        "uint8": Clip(id="x", frames=good.frames.astype(np.float32), face_boxes=good.face_boxes,
                      audio=good.audio),
        "face_boxes must be": Clip(id="x", frames=good.frames, face_boxes=good.face_boxes[:3],
                                   audio=good.audio),
        "is empty": Clip(id="x", frames=good.frames, face_boxes=np.tile([200, 200, 300, 300], (12, 1)),
                         audio=good.audio),
        "mono": Clip(id="x", frames=good.frames, face_boxes=good.face_boxes,
                     audio=np.zeros((2, 8000), np.float32)),
    }
    for message, clip in cases.items():
        with pytest.raises(SampleError, match=message):
            method.generate(clip)


def test_registration_and_protocol():
    specs = []
    tfb.bench_register_methods(specs.append)
    assert [s.name for s in specs] == ["static-reference", "audio-energy-mouth", "ground-truth"]
    for spec in specs:
        assert spec.task == "talking-face"
        method = resolve(spec.factory)(**dict(spec.config))
        assert isinstance(method, TalkingFaceMethod)

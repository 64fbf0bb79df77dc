"""LSE-C / LSE-D: parity with syncnet_python's evaluate loop, input handling, calibration."""

from __future__ import annotations

import math

import numpy as np
import pytest
import python_speech_features
import torch

from bench.interfaces import SampleError
from bench.metrics.lse import evaluate_sync
from bench.metrics.syncnet import SyncNet

torch.set_num_threads(1)


def reference_evaluate(model: SyncNet, frames_bgr: np.ndarray, audio: np.ndarray,
                       vshift: int = 15, batch_size: int = 20):
    """syncnet_python's SyncNetInstance.evaluate + calc_pdist, written out step by step."""
    im = np.transpose(np.stack(list(frames_bgr), axis=3)[None], (0, 3, 4, 1, 2))  # 1×3×T×H×W
    imtv = torch.from_numpy(im.astype(float)).float()
    cc = np.stack([np.array(c) for c in zip(*python_speech_features.mfcc(audio, 16000))])
    cct = torch.from_numpy(cc[None, None].astype(float)).float()  # 1×1×13×M
    min_length = min(len(frames_bgr), math.floor(len(audio) / 640))
    lastframe = min_length - 5
    im_feat, cc_feat = [], []
    with torch.no_grad():
        for i in range(0, lastframe, batch_size):
            vs = range(i, min(lastframe, i + batch_size))
            im_in = torch.cat([imtv[:, :, v:v + 5, :, :] for v in vs], 0)
            im_feat.append(model.forward_lip(im_in))
            cc_in = torch.cat([cct[:, :, :, v * 4:v * 4 + 20] for v in vs], 0)
            cc_feat.append(model.forward_aud(cc_in))
    im_feat, cc_feat = torch.cat(im_feat, 0), torch.cat(cc_feat, 0)
    win = vshift * 2 + 1
    padded = torch.nn.functional.pad(cc_feat, (0, 0, vshift, vshift))
    dists = [torch.nn.functional.pairwise_distance(im_feat[[i], :].repeat(win, 1), padded[i:i + win, :])
             for i in range(len(im_feat))]
    mdist = torch.mean(torch.stack(dists, 1), 1)
    minval, minidx = torch.min(mdist, 0)
    offset = vshift - minidx
    conf = torch.median(mdist) - minval
    return int(offset), float(conf), float(minval), torch.stack(dists, 0).numpy(), mdist.numpy()


def random_syncnet(width: float, seed: int = 0) -> SyncNet:
    """Seeded SyncNet with non-trivial batch-norm statistics (so folding is exercised)."""
    torch.manual_seed(seed)
    model = SyncNet(width)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d)):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return model.eval()


def clip_arrays(n_frames: int, seed: int = 0, audio_frames: int | None = None):
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 256, (n_frames, 224, 224, 3), dtype=np.uint8)
    n = (audio_frames if audio_frames is not None else n_frames) * 640
    t = np.arange(n) / 16000
    audio = (6000 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t))
             + 500 * rng.standard_normal(n)).astype(np.int16)
    return frames, audio


@pytest.fixture(scope="module")
def model():
    return random_syncnet(0.125)


@pytest.mark.parametrize("n_frames,audio_frames,vshift", [(48, 48, 15), (30, 41, 10), (40, 33, 15)])
def test_parity_with_reference_loop(model, n_frames, audio_frames, vshift):
    frames, audio = clip_arrays(n_frames, seed=n_frames, audio_frames=audio_frames)
    ref = reference_evaluate(model, frames, audio, vshift=vshift)
    ours = evaluate_sync(model, frames, audio, vshift=vshift, batch_size=16)
    assert ours.offset == ref[0]
    assert ours.confidence == pytest.approx(ref[1], rel=1e-5, abs=1e-5)
    assert ours.min_dist == pytest.approx(ref[2], rel=1e-5)
    assert ours.dists.shape == ref[3].shape == (min(n_frames, audio_frames) - 5, 2 * vshift + 1)
    np.testing.assert_allclose(ours.dists, ref[3], rtol=1e-5)
    np.testing.assert_allclose(ours.mdist, ref[4], rtol=1e-5)


def test_scores_do_not_depend_on_batch_size(model):
    frames, audio = clip_arrays(30, seed=3)
    a = evaluate_sync(model, frames, audio, batch_size=1)
    b = evaluate_sync(model, frames, audio, batch_size=64)
    np.testing.assert_allclose(a.dists, b.dists, rtol=1e-5)


def test_audio_shorter_than_five_frames_is_a_sample_error(model):
    frames, audio = clip_arrays(30, audio_frames=4)
    with pytest.raises(SampleError, match="overlap for 4 frames"):
        evaluate_sync(model, frames, audio, name="short.mp4")
    with pytest.raises(SampleError, match="short.mp4"):
        evaluate_sync(model, frames, audio[:100], name="short.mp4")


def test_length_mismatch_uses_shorter_and_records_it(model):
    frames, audio = clip_arrays(30, audio_frames=24)
    res = evaluate_sync(model, frames, audio)
    assert res.n_frames == 24 and res.dists.shape[0] == 19
    assert any("length mismatch" in n for n in res.notes)
    same = evaluate_sync(model, frames[:24], audio)
    np.testing.assert_allclose(res.dists, same.dists, rtol=1e-6)
    assert not any("length mismatch" in n for n in same.notes)


def test_wrong_fps_resamples_to_25_nearest_frame(model):
    frames, audio = clip_arrays(24, audio_frames=20)
    idx = np.floor(np.arange(20) * 30 / 25 + 0.5).astype(int)  # 24 frames at 30 fps -> 20 at 25
    res = evaluate_sync(model, frames, audio, fps=30)
    assert any("30 fps" in n for n in res.notes)
    direct = evaluate_sync(model, frames[idx], audio)
    np.testing.assert_allclose(res.dists, direct.dists, rtol=1e-6)


def test_float_audio_is_scaled_to_int16(model):
    frames, audio = clip_arrays(20)
    res_f = evaluate_sync(model, frames, audio.astype(np.float32) / 32768.0)
    res_i = evaluate_sync(model, frames, audio)
    assert any("x32768" in n for n in res_f.notes)
    np.testing.assert_allclose(res_f.dists, res_i.dists, rtol=1e-5)


def test_silent_audio_is_scored(model):
    frames, _ = clip_arrays(20)
    res = evaluate_sync(model, frames, np.zeros(20 * 640, np.int16))
    assert np.isfinite(res.dists).all() and np.isfinite(res.confidence)
    ref = reference_evaluate(model, frames, np.zeros(20 * 640, np.int16))
    assert res.min_dist == pytest.approx(ref[2], rel=1e-5)


def test_non_224_frames_resized_only_under_whole_frame(model):
    import cv2

    frames, audio = clip_arrays(20)
    small = np.stack([cv2.resize(f, (96, 96)) for f in frames])
    res = evaluate_sync(model, small, audio, resize=True)
    assert any("resized from 96x96" in n for n in res.notes)
    up = np.stack([cv2.resize(f, (224, 224), interpolation=cv2.INTER_LINEAR) for f in small])
    np.testing.assert_allclose(res.dists, evaluate_sync(model, up, audio).dists, rtol=1e-6)
    with pytest.raises(SampleError, match="96x96"):
        evaluate_sync(model, small, audio, resize=False, name="crop.avi")


def test_grayscale_and_rgba_frames_are_converted(model):
    frames, audio = clip_arrays(20)
    gray = frames[..., 0]
    res = evaluate_sync(model, gray, audio)
    assert any("grayscale" in n for n in res.notes)
    np.testing.assert_allclose(res.dists, evaluate_sync(model, np.repeat(gray[..., None], 3, -1), audio).dists,
                               rtol=1e-6)
    rgba = np.concatenate([frames, np.full(frames.shape[:-1] + (1,), 255, np.uint8)], -1)
    res4 = evaluate_sync(model, rgba, audio)
    assert any("alpha" in n for n in res4.notes)
    np.testing.assert_allclose(res4.dists, evaluate_sync(model, frames, audio).dists, rtol=1e-6)


def test_nan_frames_are_a_sample_error(model):
    frames, audio = clip_arrays(20)
    f = frames.astype(np.float32)
    f[3, 10, 10, 1] = np.nan
    with pytest.raises(SampleError, match="gen_007.*NaN"):
        evaluate_sync(model, f, audio, name="gen_007")


def test_bad_shapes_and_dtypes(model):
    frames, audio = clip_arrays(20)
    with pytest.raises(SampleError, match="channels"):
        evaluate_sync(model, np.zeros((20, 224, 224, 5), np.uint8), audio)
    with pytest.raises(SampleError, match="mono"):
        evaluate_sync(model, frames, np.zeros((3, 20 * 640), np.int16))
    with pytest.raises(SampleError, match="int32"):
        evaluate_sync(model, frames, audio.astype(np.int32))
    with pytest.raises(SampleError, match="NaN"):
        evaluate_sync(model, frames, np.full(20 * 640, np.nan, np.float32))

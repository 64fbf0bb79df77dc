"""The LSE dataset metric: weights resolution, protocols, fingerprint, aggregation, plugin."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.interfaces import SampleError
from bench.lazy import resolve
from bench.metrics.lse import evaluate_sync
from bench.metrics.lse_metric import LseMetric
from bench.metrics.syncnet import WeightsUnavailable, expected_keys, sha256_file
from bench.samples import Clip
from bench.weights import registry
from tests.test_lse import random_syncnet

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    model = random_syncnet(0.125, seed=5)
    path = tmp_path_factory.mktemp("w") / "small_syncnet.pt"
    torch.save({"state_dict": model.state_dict(), "width": 0.125, "meta": {}}, path)
    return path, model


def make_clip(n=24, size=96, seed=0):
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8)
    t = np.arange(n * 640) / 16000
    audio = (0.3 * np.sin(2 * np.pi * 200 * t) * (1 + np.sin(2 * np.pi * 2 * t))).astype(np.float32)
    return Clip(id=f"clip{seed}", frames=frames, face_boxes=np.zeros((n, 4)), audio=audio)


def test_missing_official_weights_name_the_fetch_command(tmp_path, monkeypatch, ckpt):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(registry.WeightsUnavailable, match="bench weights fetch syncnet-v2"):
        LseMetric(weights="syncnet-v2")
    with pytest.raises(registry.WeightsUnavailable, match="bench weights fetch s3fd"):
        LseMetric(protocol="face-track", detector="s3fd", weights=str(ckpt[0]))
    with pytest.raises(WeightsUnavailable, match="nothere.pt"):
        LseMetric(weights=str(tmp_path / "nothere.pt"))


def test_whole_frame_per_sample_matches_evaluate_sync(ckpt):
    path, model = ckpt
    metric = LseMetric("lse-c", weights=str(path))
    clip = make_clip()
    out = metric.per_sample(clip, {"frames": clip.frames})
    ref = evaluate_sync(model, clip.frames[..., ::-1], np.rint(clip.audio * 32768).astype(np.int16))
    assert out["lse_c"] == pytest.approx(ref.confidence, rel=1e-5, abs=1e-6)
    assert out["lse_d"] == pytest.approx(ref.min_dist, rel=1e-5)
    assert out["offset"] == ref.offset and out["n_windows"] == 19
    assert "resized from 96x96" in out["notes"] and "x32768" in out["notes"]


def test_lse_c_and_lse_d_share_one_syncnet_pass(ckpt):
    path, model = ckpt
    c, d = LseMetric("lse-c", weights=str(path)), LseMetric("lse-d", weights=str(path))
    assert c.scorer is d.scorer
    clip = make_clip(seed=3)
    before = c.scorer.passes
    out_c = c.per_sample(clip, {"frames": clip.frames})
    out_d = d.per_sample(clip, {"frames": clip.frames})
    assert c.scorer.passes == before + 1
    assert out_c == out_d
    ref = evaluate_sync(model, clip.frames[..., ::-1], np.rint(clip.audio * 32768).astype(np.int16))
    assert out_d["lse_d"] == pytest.approx(ref.min_dist, rel=1e-5)
    # other frames on the same audio: a new pass, but the audio stream comes from the cache
    n_audio = len(c.scorer.audio_cache)
    other = make_clip(seed=4)
    moved = Clip(id="moved", frames=other.frames, face_boxes=clip.face_boxes, audio=clip.audio)
    c.per_sample(moved, {"frames": moved.frames})
    assert c.scorer.passes == before + 2 and len(c.scorer.audio_cache) == n_audio
    # other settings get their own scorer
    assert LseMetric("lse-c", weights=str(path), vshift=10).scorer is not c.scorer


def test_fingerprint_and_aggregate(ckpt):
    path, _ = ckpt
    c = LseMetric("lse-c", weights=str(path))
    d = LseMetric("lse-d", weights=str(path), vshift=10)
    fp = c.fingerprint()
    assert fp["weights_sha256"] == sha256_file(path)
    assert fp["protocol"] == "whole-frame" and fp["vshift"] == 15 and fp["fps"] == 25
    assert d.fingerprint()["vshift"] == 10
    vals = [{"lse_c": 1.0, "lse_d": 8.0}, {"lse_c": 3.0, "lse_d": 6.0}, {"lse_c": 3.0, "lse_d": 6.0}]
    assert c.aggregate(vals) == pytest.approx(7 / 3)
    assert d.aggregate(vals[:2]) == pytest.approx(7.0)
    with pytest.raises(ValueError, match="no scored samples"):
        c.aggregate([])


def test_bad_options(ckpt):
    path, _ = ckpt
    with pytest.raises(ValueError, match="which"):
        LseMetric("lse-x", weights=str(path))
    with pytest.raises(ValueError, match="protocol"):
        LseMetric(protocol="tracks", weights=str(path))


def test_prediction_without_frames_is_a_sample_error(ckpt):
    metric = LseMetric(weights=str(ckpt[0]))
    with pytest.raises(SampleError, match="clip0.*frames"):
        metric.per_sample(make_clip(), {})


def test_face_track_without_a_face_is_a_sample_error(ckpt):
    metric = LseMetric(protocol="face-track", detector="haar", weights=str(ckpt[0]), min_track=5)
    clip = make_clip(n=20, size=160)
    with pytest.raises(SampleError, match="no face track"):
        metric.per_sample(clip, {"frames": np.full_like(clip.frames, 90)})


def test_face_track_scores_the_tracked_face(ckpt):
    import cv2
    from skimage import data

    img = cv2.resize(data.astronaut(), (256, 256))  # RGB, as generated frames are
    frames = np.stack([np.roll(img, i, axis=1) for i in range(14)])
    clip = make_clip(n=14)
    metric = LseMetric(protocol="face-track", detector="haar", weights=str(ckpt[0]),
                       min_track=8, min_face_size=25)
    out = metric.per_sample(clip, {"frames": frames})
    assert out["n_tracks"] == 1 and np.isfinite(out["lse_c"]) and np.isfinite(out["lse_d"])
    assert metric.fingerprint()["detector"] == "haar"


def test_plugin_registers_metrics_and_weights():
    from plugins import lse as plugin

    metrics, weights = [], []
    plugin.bench_register_metrics(metrics.append)
    plugin.bench_register_weights(weights.append)
    by_name = {m.name: m for m in metrics}
    assert by_name["lse-c"].direction == "higher" and by_name["lse-d"].direction == "lower"
    assert by_name["lse-c"].options["weights"] == "syncnet-embedded"
    assert by_name["lse-d-v2"].options["weights"] == "syncnet-v2"
    assert all(m.task == "talking-face" for m in metrics)
    assert resolve(by_name["lse-c"].factory) is LseMetric
    w = {x.name: x for x in weights}
    assert w["syncnet-v2"].url.endswith("syncnet_v2.model") and w["syncnet-v2"].sha256 is None
    assert w["s3fd"].filename == "sfd_face.pth"
    assert w["syncnet-embedded"].shipped_path.endswith("syncnet_embedded.pt")
    assert registry.expected_keys(w["syncnet-v2"]) == set(expected_keys(1.0))
    assert len(registry.expected_keys(w["s3fd"])) == 65


def test_the_fingerprint_needs_no_syncnet_once_its_width_is_known(tmp_path, monkeypatch):
    from bench.metrics import lse_metric

    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path))
    first = lse_metric.LseMetric("lse-c")  # reads the width from the weights file once
    monkeypatch.setattr(lse_metric, "shared_scorer", lambda *a, **k: pytest.fail("loaded"))
    again = lse_metric.LseMetric("lse-d")
    assert again._scorer is None and again.width == first.width == first.scorer.width
    assert again.fingerprint()["weights_sha256"] == first.scorer.weights_sha256

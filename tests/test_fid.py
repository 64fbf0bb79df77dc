"""FID: parity with pytorch-fid (features, statistics, distance), streaming sums, bad input."""

from __future__ import annotations

import copy
import dataclasses
import warnings

import numpy as np
import pytest
import torch
from image_fakes import install_fid, make_clip
from PIL import Image
from pytorch_fid import fid_score
from pytorch_fid.inception import InceptionV3

from bench.interfaces import SampleError
from bench.metrics.fid import FeatureStats, FidMetric, FidUndefined, frechet_distance
from bench.metrics.inception import FidFeatureExtractor, build_fid_inception
from bench.weights import registry
from bench.weights.catalog import FID_INCEPTION

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def fid_env(tmp_path_factory):
    """Generated FID weights under the official filename in a private torch hub cache."""
    home = tmp_path_factory.mktemp("torch_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TORCH_HOME", str(home))
        spec, state = install_fid(home)
        yield home, spec, state


@pytest.fixture(scope="module")
def metric(fid_env):
    _, spec, _ = fid_env
    return FidMetric(crop="face", batch_size=4, weights=spec)


def _random_stats(rng, n, d):
    x = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + rng.normal(size=d)
    return x.mean(0), np.cov(x, rowvar=False)


def test_frechet_distance_matches_pytorch_fid():
    rng = np.random.default_rng(0)
    mu1, s1 = _random_stats(rng, 400, 32)
    mu2, s2 = _random_stats(rng, 300, 32)
    ours = frechet_distance(mu1, s1, mu2, s2)
    theirs = fid_score.calculate_frechet_distance(mu1, s1, mu2, s2)
    assert ours == pytest.approx(theirs, rel=1e-6, abs=1e-6)
    assert ours > 1.0
    assert frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_singular_covariances_match_pytorch_fid():
    # fewer samples than dimensions: rank-deficient covariances, as FID on < 2048 frames
    rng = np.random.default_rng(1)
    mu1, s1 = _random_stats(rng, 10, 40)
    mu2, s2 = _random_stats(rng, 12, 40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = frechet_distance(mu1, s1, mu2, s2)
        theirs = fid_score.calculate_frechet_distance(mu1, s1, mu2, s2)
    assert ours == pytest.approx(theirs, rel=1e-6, abs=1e-6)


def test_frechet_distance_imaginary_component_is_refused():
    mu = np.zeros(2)
    s1, s2 = np.eye(2), np.diag([-1.0, 1.0])  # sqrtm has an imaginary diagonal
    with pytest.raises(ValueError, match="Imaginary component"):
        fid_score.calculate_frechet_distance(mu, s1, mu, s2)
    with pytest.raises(FidUndefined, match="Imaginary component"):
        frechet_distance(mu, s1, mu, s2)
    with pytest.raises(ValueError, match="differ in shape"):
        frechet_distance(np.zeros(3), np.eye(3), mu, s1)


def test_streaming_stats_equal_numpy_cov():
    rng = np.random.default_rng(2)
    feats = rng.normal(loc=3.0, size=(157, 64)).astype(np.float32)
    stats = FeatureStats(dims=64)
    for start in range(0, len(feats), 50):  # uneven batches
        stats.update(feats[start:start + 50])
    np.testing.assert_allclose(stats.mean(), feats.astype(np.float64).mean(0), rtol=1e-12)
    np.testing.assert_allclose(stats.cov(), np.cov(feats, rowvar=False), rtol=1e-9, atol=1e-12)
    with pytest.raises(FidUndefined):
        FeatureStats(dims=4).cov()


def test_features_equal_pytorch_fid_inception(fid_env):
    _, spec, _ = fid_env
    ours = FidFeatureExtractor.from_registry(spec)
    theirs = InceptionV3([3]).eval()  # finds the generated file in the hub cache, no download
    images = torch.rand(3, 3, 72, 60, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        a = ours(images)
        b = theirs(images)[0].squeeze(3).squeeze(2)
    assert a.shape == (3, 2048)
    assert float(a.std()) > 0.1  # the generated weights give non-degenerate features
    torch.testing.assert_close(a, b, rtol=0, atol=1e-6)


def _pooled(values, prefix):
    stats = FeatureStats()
    for v in values:
        stats.add_sums(v[f"{prefix}_sum"], v[f"{prefix}_outer"], v[f"{prefix}_n"])
    return stats


def test_frame_statistics_equal_pytorch_fid_on_png_folders(metric, tmp_path):
    # full pipeline: uint8 frames -> our per-video sums, pooled; the same frames as PNG files ->
    # pytorch-fid's own loader, model and statistics. (The distance on these statistics is the
    # function checked above; a 2048-d sqrtm costs a minute of CPU, so it is not repeated here.)
    frame_metric = copy.copy(metric)
    frame_metric.crop = "frame"
    clips = [make_clip(f"c{i}", n_frames=2, seed=i) for i in range(2)]
    values = [frame_metric.per_sample(c, {"frames": c.frames}) for c in clips]
    model = InceptionV3([3]).eval()
    for prefix, attr in (("gen", "frames"), ("real", "target")):
        folder = tmp_path / prefix
        folder.mkdir()
        for c in clips:
            for i, frame in enumerate(getattr(c, attr)):
                Image.fromarray(frame).save(folder / f"{c.id}_{i:03d}.png")
        mu, sigma = fid_score.compute_statistics_of_path(str(folder), model, 4, 2048, "cpu", 0)
        ours = _pooled(values, prefix)
        assert ours.count == 4
        np.testing.assert_allclose(ours.mean(), mu, rtol=0, atol=1e-6)
        np.testing.assert_allclose(ours.cov(), sigma, rtol=1e-6, atol=1e-9)
        assert float(np.abs(sigma).max()) > 1e-3  # the statistics are not trivially zero


def test_face_crop_fid_pools_sums_over_resampled_videos(metric, monkeypatch):
    clip = make_clip("face", n_frames=3, seed=5)
    out = metric.per_sample(clip, {"frames": clip.frames})
    assert out["gen_n"] == 3 and out["real_n"] == 3
    assert out["gen_outer"].shape == (2048, 2048) and out["gen_outer"].dtype == np.float64
    other_clip = make_clip("f2", n_frames=2, seed=6)
    other = metric.per_sample(other_clip, {"frames": make_clip("f2", n_frames=2, seed=7).frames})
    seen = {}

    def fake_distance(mu1, sigma1, mu2, sigma2):
        seen.update(mu1=mu1, sigma1=sigma1, mu2=mu2, sigma2=sigma2)
        return 1.5

    monkeypatch.setattr("bench.metrics.fid.frechet_distance", fake_distance)
    resample = [other, out, other]  # a bootstrap resample with repeats is valid input
    with pytest.warns(RuntimeWarning, match=r"7 generated frames \(< 2048\)"):
        assert metric.aggregate(resample) == 1.5
    expected = _pooled(resample, "gen")
    np.testing.assert_allclose(seen["mu1"], expected.mean())
    np.testing.assert_allclose(seen["sigma1"], expected.cov())
    np.testing.assert_allclose(seen["mu2"], _pooled(resample, "real").mean())
    assert metric.last_details["n_generated"] == 7 and metric.last_details["n_videos"] == 3
    assert len(metric.last_details["warnings"]) == 2


def test_cross_dub_uses_identity_video_as_real_set(metric):
    clip = make_clip("xdub", n_frames=2, seed=8, with_target=False)
    generated = np.concatenate([clip.frames, clip.frames[:1]])  # longer than the identity video
    out = metric.per_sample(clip, {"frames": generated})
    assert out["gen_n"] == 3 and out["real_n"] == 2


def test_fingerprint_records_protocol(metric, fid_env):
    fp = metric.fingerprint()
    assert fp["weights_sha256"] == fid_env[1].sha256
    assert fp["dims"] == 2048 and fp["crop"] == "face" and fp["frame_sampling"] == "all frames"
    assert "299" in fp["resize"] and "[-1, 1]" in fp["input_range"]
    assert set(fp["versions"]) >= {"pytorch-fid", "scipy", "torch"}
    assert fp["min_recommended_frames"] == 2048


@pytest.mark.parametrize(
    "frames, message",
    [
        (np.full((3, 48, 56, 3), np.nan, dtype=np.float32), "NaN"),
        (np.zeros((3, 48, 56), dtype=np.uint8), "grayscale"),
        (np.zeros((3, 48, 56, 1), dtype=np.uint8), "grayscale"),
        (np.zeros((3, 48, 56, 4), dtype=np.uint8), "RGBA"),
        (np.zeros((0, 48, 56, 3), dtype=np.uint8), "empty"),
        ([[0]], "numpy array"),
    ],
)
def test_bad_generated_frames_are_sample_errors(metric, frames, message):
    clip = make_clip("bad-clip", seed=9)
    with pytest.raises(SampleError, match=message) as err:
        metric.per_sample(clip, {"frames": frames})
    assert "bad-clip" in str(err.value)


def test_missing_frames_key_and_bad_boxes(metric):
    clip = make_clip("nokey")
    with pytest.raises(SampleError, match="no 'frames'"):
        metric.per_sample(clip, {"video": clip.frames})
    boxed = dataclasses.replace(clip, face_boxes=np.array([[10.0, 10.0, 10.0, 10.0]] * 3))
    with pytest.raises(SampleError, match="face box of frame 0 is empty"):
        metric.per_sample(boxed, {"frames": clip.frames})


def test_absent_weights_make_metric_unavailable(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(registry.WeightsUnavailable, match="bench weights fetch fid-inception"):
        FidMetric()


def test_official_filename_with_wrong_content_is_refused(fid_env, tmp_path, monkeypatch):
    # the generated file does not carry the official 6726825d hash prefix: refused, not used
    home, _, _ = fid_env
    monkeypatch.setenv("TORCH_HOME", str(home))
    with pytest.raises(registry.WeightsIntegrityError, match="does not start with 6726825d"):
        FidMetric(weights=FID_INCEPTION)


def test_wrong_key_set_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    state = build_fid_inception().state_dict()
    state.pop("fc.weight")
    state["extra.weight"] = torch.zeros(1)
    path = tmp_path / "hub" / "checkpoints" / "fid.pth"
    path.parent.mkdir(parents=True)
    torch.save(state, path)
    import hashlib

    spec = dataclasses.replace(FID_INCEPTION, filename="fid.pth",
                               sha256=hashlib.sha256(path.read_bytes()).hexdigest())
    with pytest.raises(registry.WeightsIntegrityError) as err:
        FidMetric(weights=spec)
    assert "fid.pth" in str(err.value)
    assert "missing keys: fc.weight" in str(err.value) and "unexpected keys: extra.weight" in str(
        err.value)

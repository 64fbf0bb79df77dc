"""LPIPS: parity with the lpips package on identical backbone weights, input checks, bad input."""

from __future__ import annotations

import dataclasses

import lpips
import numpy as np
import pytest
import torch
import torchvision
from image_fakes import install_alexnet, make_clip

from bench.interfaces import SampleError
from bench.metrics.lpips_metric import LpipsMetric, build_lpips, check_lpips_input, lpips_distance
from bench.weights import registry

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def alex_env(tmp_path_factory):
    home = tmp_path_factory.mktemp("torch_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TORCH_HOME", str(home))
        spec, state = install_alexnet(home)
        yield home, spec, state


@pytest.fixture(scope="module")
def metric(alex_env):
    return LpipsMetric(backbone=alex_env[1])


@pytest.fixture(scope="module")
def reference(alex_env):
    """lpips.LPIPS built the package's own way, its torchvision AlexNet holding the same weights."""
    state = alex_env[2]
    original = torchvision.models.alexnet  # lpips calls tv.alexnet, i.e. this same function

    def alexnet_with_state(*args, **kwargs):
        net = original(weights=None)
        net.load_state_dict(state)
        return net

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lpips.pretrained_networks.tv, "alexnet", alexnet_with_state)
        model = lpips.LPIPS(net="alex", version="0.1", verbose=False)
    return model.eval()


def _signed(seed, shape=(4, 3, 64, 64)):
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_distance_equals_lpips_package(metric, reference):
    x0, x1 = _signed(0), _signed(1)
    ours = lpips_distance(metric.model, x0, x1)
    with torch.no_grad():
        theirs = reference(x0, x1).reshape(-1)
    assert ours.shape == (4,) and float(ours.min()) > 0
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-6)
    assert float(lpips_distance(metric.model, x0, x0).abs().max()) < 1e-6


def test_metric_on_uint8_frames_equals_lpips_package(metric, reference):
    clip = make_clip("lp", n_frames=3, seed=2)
    out = metric.per_sample(clip, {"frames": clip.frames})
    crops = [(f[6:44, 4:48], t[6:44, 4:48]) for f, t in zip(clip.frames, clip.target)]
    expected = []
    with torch.no_grad():
        for a, b in crops:
            ta = lpips.im2tensor(a)  # the package's own uint8 -> [-1, 1] conversion
            tb = lpips.im2tensor(b)
            expected.append(float(reference(ta, tb)))
    assert out["n_frames"] == 3
    assert out["lpips"] == pytest.approx(np.mean(expected), abs=1e-6)
    other = metric.per_sample(make_clip("lp2", seed=3), {"frames": make_clip("lp2", seed=4).frames})
    assert metric.aggregate([out, other]) == pytest.approx((out["lpips"] + other["lpips"]) / 2)
    assert other["lpips"] > out["lpips"]  # unrelated frames are further apart than noisy copies


def test_linear_heads_are_the_verified_shipped_ones(metric):
    lin = registry.load_state_dict(metric.lin)
    state = metric.model.state_dict()
    for key, value in lin.items():
        assert torch.equal(state[key], value)
    fp = metric.fingerprint()
    assert fp["lin_sha256"] == metric.lin.sha256 and fp["net"] == "alex" and fp["version"] == "0.1"


def test_rejects_unit_range_and_uint8_inputs(metric):
    x = _signed(5)
    with pytest.raises(ValueError, match=r"\[0, 1\].*2x - 1"):
        lpips_distance(metric.model, (x + 1) / 2, x)
    u8 = ((x + 1) * 127.5).to(torch.uint8)
    with pytest.raises(ValueError, match="uint8.*LpipsMetric"):
        lpips_distance(metric.model, u8, u8)
    with pytest.raises(ValueError, match="outside"):
        check_lpips_input(x * 255, "x")
    with pytest.raises(ValueError, match="NaN"):
        check_lpips_input(torch.full((1, 3, 8, 8), float("nan")), "x")
    with pytest.raises(ValueError, match="RGB"):
        check_lpips_input(x[:, :1], "x")
    with pytest.raises(ValueError, match="differ in shape"):
        lpips_distance(metric.model, x, x[:, :, :32])


def test_bright_uint8_frames_are_fine_through_the_metric(metric):
    # a frame whose pixels are all >= 128 maps into [0, 1] after conversion; not an error here
    clip = make_clip("bright", seed=6)
    bright = dataclasses.replace(clip, target=np.maximum(clip.target, 200))
    out = metric.per_sample(bright, {"frames": np.maximum(clip.frames, 200)})
    assert np.isfinite(out["lpips"])


def test_ground_truth_needed_and_frame_counts_checked(metric):
    clip = make_clip("xd", with_target=False)
    with pytest.raises(SampleError, match="no ground truth under cross-dub"):
        metric.per_sample(clip, {"frames": clip.frames})
    clip = make_clip("short", n_frames=3)
    with pytest.raises(SampleError, match="'short': 2 generated frames but 3 target frames"):
        metric.per_sample(clip, {"frames": clip.frames[:2]})
    with pytest.raises(SampleError, match="'short'.*RGBA"):
        metric.per_sample(clip, {"frames": np.zeros((3, 48, 56, 4), np.uint8)})
    with pytest.raises(SampleError, match="'short'.*NaN"):
        metric.per_sample(clip, {"frames": np.full((3, 48, 56, 3), np.nan)})


def test_absent_backbone_makes_metric_unavailable(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(registry.WeightsUnavailable, match="bench weights fetch lpips-alex-backbone"):
        LpipsMetric()


def test_backbone_with_wrong_keys_is_refused(alex_env, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    state = dict(alex_env[2])
    state.pop("features.0.weight")
    from image_fakes import install

    spec = install(state, alex_env[1], tmp_path)
    with pytest.raises(registry.WeightsIntegrityError, match="missing keys: features.0.weight"):
        build_lpips("alex", backbone=spec)

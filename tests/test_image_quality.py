"""SSIM and PSNR: settings, crop rule, aggregation, bad input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from image_fakes import make_clip
from skimage.metrics import structural_similarity

from bench.interfaces import SampleError
from bench.metrics.image_quality import PSNR_CAP_DB, PsnrMetric, SsimMetric, psnr_frame, ssim_frame


def test_psnr_matches_the_formula():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-9, 10, a.shape), 0, 255).astype(np.uint8)
    mse = np.mean((a.astype(np.float64) - b) ** 2)
    assert psnr_frame(a, b) == pytest.approx(10 * np.log10(255**2 / mse), rel=1e-12)
    assert psnr_frame(a, a) == PSNR_CAP_DB


def test_ssim_uses_the_gaussian_wang_settings():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-30, 31, a.shape), 0, 255).astype(np.uint8)
    value = ssim_frame(a, b)
    assert value == pytest.approx(structural_similarity(
        a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255,
        channel_axis=-1))
    # the uniform 7x7 window (skimage's default) gives a different number: the settings matter
    assert value != pytest.approx(structural_similarity(a, b, data_range=255, channel_axis=-1))
    assert ssim_frame(a, a) == pytest.approx(1.0)


@pytest.mark.parametrize("shape", [(11, 11, 3), (32, 40, 3), (64, 64, 3)])
def test_ssim_of_identical_frames_is_what_scikit_image_computes(shape):
    """Identical frames skip the filtering; scikit-image's own arithmetic gives exactly 1.0."""
    a = np.random.default_rng(3).integers(0, 256, shape, dtype=np.uint8)
    full = structural_similarity(a, a.copy(), gaussian_weights=True, sigma=1.5,
                                 use_sample_covariance=False, data_range=255, channel_axis=-1)
    assert ssim_frame(a, a.copy()) == float(full) == 1.0


@pytest.mark.parametrize("cls, frame_fn", [(SsimMetric, ssim_frame), (PsnrMetric, psnr_frame)])
def test_face_crop_and_full_frame_per_video_means(cls, frame_fn):
    clip = make_clip("iq", n_frames=3, seed=2)
    gen = clip.frames
    face = cls(region="face").per_sample(clip, {"frames": gen})
    frame = cls(region="frame").per_sample(clip, {"frames": gen})
    # the fake clip's boxes are (4, 6, W - 8, H - 4): rows 6..44, columns 4..48
    expected_face = np.mean([frame_fn(g[6:44, 4:48], t[6:44, 4:48]) for g, t in zip(gen, clip.target)])
    expected_frame = np.mean([frame_fn(g, t) for g, t in zip(gen, clip.target)])
    assert face[cls.name] == pytest.approx(expected_face)
    assert frame[cls.name] == pytest.approx(expected_frame)
    assert face[cls.name] != pytest.approx(frame[cls.name])
    assert face["n_frames"] == 3


def test_better_frames_score_higher_and_aggregate_is_mean_of_videos():
    clip = make_clip("rank", n_frames=3, seed=3)
    noisy = np.clip(clip.target.astype(int) + 60, 0, 255).astype(np.uint8)
    for metric in (SsimMetric(), PsnrMetric()):
        good = metric.per_sample(clip, {"frames": clip.frames})
        bad = metric.per_sample(clip, {"frames": noisy})
        assert good[metric.name] > bad[metric.name]
        assert metric.aggregate([good, bad]) == pytest.approx(
            (good[metric.name] + bad[metric.name]) / 2)
        assert metric.aggregate([good, good, bad]) == pytest.approx(
            (2 * good[metric.name] + bad[metric.name]) / 3)
    assert PsnrMetric().per_sample(clip, {"frames": clip.target})["psnr"] == PSNR_CAP_DB


def test_fingerprint_names_settings():
    fp = SsimMetric(region="frame").fingerprint()
    assert fp["region"] == "frame" and fp["sigma"] == 1.5 and fp["data_range"] == 255
    assert fp["use_sample_covariance"] is False and "scikit-image" in fp["implementation"]
    assert PsnrMetric().fingerprint()["cap_db"] == PSNR_CAP_DB


@pytest.mark.parametrize("cls", [SsimMetric, PsnrMetric])
def test_bad_input_names_the_clip(cls):
    metric = cls()
    clip = make_clip("bad-iq", n_frames=3)
    cases = [
        (make_clip("bad-iq", with_target=False), clip.frames, "no ground truth under cross-dub"),
        (clip, clip.frames[:2], "2 generated frames but 3 target frames"),
        (clip, clip.frames[:, :40], "frame size"),
        (clip, clip.frames[..., 0], "grayscale"),
        (clip, np.concatenate([clip.frames, clip.frames[..., :1]], axis=-1), "RGBA"),
        (clip, np.full(clip.frames.shape, np.nan), "NaN"),
        (clip, clip.frames.astype(np.float32), "uint8"),
    ]
    for sample, frames, message in cases:
        with pytest.raises(SampleError, match=message) as err:
            metric.per_sample(sample, {"frames": frames})
        assert "bad-iq" in str(err.value)
    with pytest.raises(ValueError, match="region"):
        cls(region="mouth")


def test_tiny_face_box_is_a_sample_error_for_ssim():
    clip = make_clip("tiny", n_frames=2)
    tiny = dataclasses.replace(clip, face_boxes=np.array([[0.0, 0.0, 8.0, 8.0]] * 2))
    with pytest.raises(SampleError, match="'tiny': ssim failed on frame 0"):
        SsimMetric().per_sample(tiny, {"frames": clip.frames})
    assert np.isfinite(PsnrMetric().per_sample(tiny, {"frames": clip.frames})["psnr"])


def test_harness_run_scores_ssim_psnr_and_reports_missing_weights(tmp_path, monkeypatch):
    # end to end through the runner: toy-loop reproduces the target exactly; FID and LPIPS have
    # no weights in an empty torch hub cache and must come back unavailable, not random
    from pathlib import Path

    import toy_plugin

    from bench.discovery import loader
    from bench.execution.records import read_record
    from bench.execution.runner import Unit, run_unit
    from plugins import image_metrics

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    regs = loader.load_registries(extra_plugins=[("toy", toy_plugin),
                                                  ("image_metrics", image_metrics)])
    monkeypatch.setattr(loader, "_cached", regs)
    unit = Unit(task="talking-face", method="toy-loop", dataset="toy-clips", split="test",
                metrics=("ssim", "psnr-frame", "lpips", "fid"), runs_dir=str(tmp_path / "runs"),
                bootstrap=20)
    rec = read_record(Path(run_unit(unit)))
    metrics = rec["metrics"]
    assert metrics["ssim"]["value"] == pytest.approx(1.0) and metrics["ssim"]["n_scored"] == 4
    assert metrics["psnr-frame"]["value"] == PSNR_CAP_DB
    assert metrics["ssim"]["fingerprint"]["sigma"] == 1.5
    for name, weights in (("lpips", "lpips-alex-backbone"), ("fid", "fid-inception")):
        assert metrics[name]["status"] == "unavailable" and metrics[name]["value"] is None
        assert f"bench weights fetch {weights}" in metrics[name]["message"]

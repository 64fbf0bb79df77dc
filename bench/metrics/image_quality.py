"""SSIM and PSNR against ground-truth frames (scikit-image), per frame, video mean, mean over videos.

SSIM uses the Wang et al. settings the talking-face literature reports: Gaussian window
(sigma 1.5), population covariance, data range 255, over the RGB channels. Both need
``clip.target``; under cross-dub (no ground truth) ``per_sample`` raises SampleError
"no ground truth under cross-dub" and the harness skips the metric for that split.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from bench.interfaces import SampleError
from bench.metrics.frames import check_region, ground_truth_pair, region_frames
from bench.metrics.mean_of_samples import MeanOfSamples
from bench.samples import Clip

# identical frames have infinite PSNR; a finite cap keeps means and JSON records usable
PSNR_CAP_DB = 100.0


def ssim_frame(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of two uint8 RGB images (H, W, 3)."""
    if np.array_equal(a, b):
        # exactly 1.0 either way (each ratio is x/x), without five Gaussian passes per channel
        return 1.0
    return float(structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False, data_range=255,
                                       channel_axis=-1))


def psnr_frame(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 RGB images, capped at PSNR_CAP_DB for identical images."""
    if np.array_equal(a, b):
        return PSNR_CAP_DB
    return min(PSNR_CAP_DB, float(peak_signal_noise_ratio(a, b, data_range=255)))


class _FramewiseMetric(MeanOfSamples):
    name = ""
    direction = "higher"

    def __init__(self, region: str = "face") -> None:
        self.region = check_region(region)
        self.key = self.name  # MeanOfSamples: the per-sample number is stored under the name

    def _frame(self, a: np.ndarray, b: np.ndarray) -> float:
        raise NotImplementedError

    def _settings(self) -> dict[str, Any]:
        raise NotImplementedError

    def fingerprint(self) -> Mapping[str, Any]:
        """Everything that changes the number."""
        return {
            "metric": self.name,
            "implementation": f"scikit-image {metadata.version('scikit-image')}",
            "region": self.region,
            "crop_rule": "target face box per frame, same box on generated and target"
            if self.region == "face" else "full frame",
            "input": "uint8 RGB, data_range 255",
            "aggregation": "frames -> video mean -> mean over videos",
            **self._settings(),
        }

    def per_sample(self, sample: Clip, prediction: Mapping[str, Any]) -> Mapping[str, Any]:
        """Mean over the frames of one clip."""
        gen, ref = ground_truth_pair(sample, prediction)
        gen_crops = region_frames(sample, gen, self.region)
        ref_crops = region_frames(sample, ref, self.region)
        values = []
        for i, (a, b) in enumerate(zip(gen_crops, ref_crops)):
            try:
                values.append(self._frame(a, b))
            except ValueError as exc:
                raise SampleError(f"clip {sample.id!r}: {self.name} failed on frame {i} "
                                  f"(crop {a.shape[:2]}): {exc}") from exc
        return {self.name: float(np.mean(values)), "n_frames": len(values)}

    def aggregate(self, values: Sequence[Mapping[str, Any]]) -> float:
        """Unweighted mean of the per-video means."""
        if not values:
            raise ValueError(f"{self.name} of an empty set of videos")
        return float(np.mean([v[self.name] for v in values]))


class SsimMetric(_FramewiseMetric):
    """Structural similarity against ground truth (higher is better)."""

    name = "ssim"

    def _frame(self, a: np.ndarray, b: np.ndarray) -> float:
        if min(a.shape[:2]) < 11:
            raise ValueError("SSIM needs crops of at least 11x11 pixels (Gaussian window)")
        return ssim_frame(a, b)

    def _settings(self) -> dict[str, Any]:
        return {"gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False,
                "data_range": 255, "channels": "RGB, channel_axis=-1 (mean over channels)"}


class PsnrMetric(_FramewiseMetric):
    """Peak signal-to-noise ratio against ground truth, in dB (higher is better)."""

    name = "psnr"

    def _frame(self, a: np.ndarray, b: np.ndarray) -> float:
        return psnr_frame(a, b)

    def _settings(self) -> dict[str, Any]:
        return {"data_range": 255, "mse": "over all pixels and RGB channels",
                "cap_db": PSNR_CAP_DB}

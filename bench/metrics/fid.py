"""Fréchet Inception Distance for talking-face videos, pooled over all frames of a split.

Protocol (recorded in the fingerprint): every frame of every video; face crop (the clip's face box
per frame) or full frame; each crop resized to 299x299 bilinear (align_corners=False) from [0, 1]
and scaled to [-1, 1]; pytorch-fid's 2048-d pool3 features; generated frames against the clip's
ground truth (``clip.target``) or, under cross-dub, the identity video (``clip.frames``).

Statistics stream as float64 sums, so memory is bounded by the batch and not by the number of
frames; the covariance equals ``np.cov(features, rowvar=False)`` (N - 1).
"""

from __future__ import annotations

import platform
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy as np
from scipy import linalg

from bench import devices
from bench.metrics.frames import check_frames, check_region, generated_frames, region_frames
from bench.samples import Clip
from bench.specs import WeightsSpec
from bench.weights import registry
from bench.weights.catalog import FID_INCEPTION

MIN_RECOMMENDED = 2048  # below the feature dimension the covariance is singular


class FidUndefined(ValueError):
    """FID cannot be computed from these statistics (too few frames, imaginary sqrtm)."""


@dataclass
class FeatureStats:
    """Running float64 sum, sum of outer products and count of feature vectors."""

    dims: int = 2048
    total: np.ndarray = field(init=False)
    outer: np.ndarray = field(init=False)
    count: int = 0

    def __post_init__(self) -> None:
        self.total = np.zeros(self.dims, dtype=np.float64)
        self.outer = np.zeros((self.dims, self.dims), dtype=np.float64)

    def update(self, features: np.ndarray) -> None:
        """Add a batch of (n, dims) feature vectors."""
        f = np.asarray(features, dtype=np.float64)
        self.total += f.sum(axis=0)
        self.outer += f.T @ f
        self.count += f.shape[0]

    def add_sums(self, total: np.ndarray, outer: np.ndarray, count: int) -> None:
        """Add sums computed elsewhere (another video's accumulator)."""
        self.total += np.asarray(total, dtype=np.float64)
        self.outer += np.asarray(outer, dtype=np.float64)
        self.count += int(count)

    def mean(self) -> np.ndarray:
        """Mean feature vector."""
        return self.total / self.count

    def cov(self) -> np.ndarray:
        """Unbiased covariance (N - 1), as ``np.cov(rowvar=False)``."""
        if self.count < 2:
            raise FidUndefined(f"covariance needs at least 2 frames, got {self.count}")
        mu = self.mean()
        return (self.outer - self.count * np.outer(mu, mu)) / (self.count - 1)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = 1e-6) -> float:
    """Fréchet distance between two Gaussians, as pytorch-fid's ``calculate_frechet_distance``.

    A non-finite matrix square root is retried with ``eps * I`` added to both covariances; an
    imaginary diagonal above 1e-3 raises :class:`FidUndefined`, a smaller one is dropped.
    """
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"statistics differ in shape: {mu1.shape}/{sigma1.shape} vs "
                         f"{mu2.shape}/{sigma2.shape}")
    diff = mu1 - mu2
    covmean = linalg.sqrtm(sigma1.dot(sigma2))
    if not np.isfinite(covmean).all():
        warnings.warn(f"FID: singular covariance product; adding {eps} to the diagonals",
                      RuntimeWarning, stacklevel=2)
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise FidUndefined(f"Imaginary component {np.max(np.abs(covmean.imag))}")
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


class FidMetric:
    """FID between generated and real frames pooled over a split (lower is better).

    ``per_sample`` returns per-video feature sums for both sets; ``aggregate`` adds them up, so
    any resampled subset of videos gives a valid FID, and records frame counts and warnings in
    ``last_details``. Each per-sample result holds two 2048x2048 float64 matrices (32 MiB each).
    """

    def __init__(self, crop: str = "face", batch_size: int = 50, device: str | None = None,
                 weights: WeightsSpec = FID_INCEPTION, bootstrap_resamples: int = 0) -> None:
        # the weights first: when they are absent the metric is unavailable without importing
        # torchvision and pytorch-fid (seconds in every run that lacks them)
        registry.verify(weights)
        from bench.metrics.inception import FidFeatureExtractor  # torch only when used

        self.crop = check_region(crop)
        self.batch_size = int(batch_size)
        self.device = device or devices.current()  # CPU unless a cluster task got a GPU
        self.weights = weights
        self.extractor = FidFeatureExtractor.from_registry(weights).to(self.device)
        self.weights_sha256 = registry.sha256_file(registry.weights_path(weights))
        # each aggregate is a 2048-d sqrtm (tens of CPU seconds); the runner caps its bootstrap
        # at this many resamples, none by default
        self.bootstrap_resamples = int(bootstrap_resamples)
        self.last_details: dict[str, Any] = {}

    def fingerprint(self) -> Mapping[str, Any]:
        """Everything that changes the number."""
        return {
            "metric": "fid",
            "extractor": "pytorch-fid InceptionV3 pool3 (FID Inception graph)",
            "weights": self.weights.name,
            "weights_sha256": self.weights_sha256,
            "dims": 2048,
            "resize": "each image bilinear to 299x299, align_corners=False (torch F.interpolate)",
            "input_range": "uint8 RGB / 255 -> [0, 1] -> 2x - 1 -> [-1, 1]",
            "crop": self.crop,
            "frame_sampling": "all frames",
            "pooling": "frames pooled over the split (one FID, not per-video)",
            "real_set": "clip.target, else clip.frames (identity video, cross-dub)",
            "covariance": "unbiased (N - 1), float64 streaming sums",
            "min_recommended_frames": MIN_RECOMMENDED,
            "versions": {
                "pytorch-fid": _version("pytorch-fid"),
                "scipy": _version("scipy"),
                "torch": _version("torch"),
                "python": platform.python_version(),
            },
        }

    def features(self, clip: Clip, frames: np.ndarray) -> FeatureStats:
        """Stream the frames of one video through the extractor into a FeatureStats."""
        import torch

        from bench.metrics.inception import to_unit_batch

        crops = region_frames(clip, frames, self.crop)
        stats = FeatureStats()
        resize = 299 if self.crop == "face" else None
        for start in range(0, len(crops), self.batch_size):
            batch = to_unit_batch(crops[start:start + self.batch_size], size=resize)
            with torch.no_grad():
                feats = self.extractor(batch.to(self.device)).cpu().numpy()
            stats.update(feats)
        return stats

    def per_sample(self, sample: Clip, prediction: Mapping[str, Any]) -> Mapping[str, Any]:
        """Feature sums of the generated frames and of the real frames of one clip."""
        gen = generated_frames(sample, prediction)
        real_frames = sample.target if sample.target is not None else sample.frames
        real = check_frames(real_frames, sample.id, "real frames")
        g, r = self.features(sample, gen), self.features(sample, real)
        return {"gen_sum": g.total, "gen_outer": g.outer, "gen_n": g.count,
                "real_sum": r.total, "real_outer": r.outer, "real_n": r.count}

    def aggregate(self, values: Sequence[Mapping[str, Any]]) -> float:
        """Pool the per-video sums and return FID; warns when fewer than 2048 frames."""
        if not values:
            raise FidUndefined("FID of an empty set of videos")
        gen, real = FeatureStats(), FeatureStats()
        for v in values:
            gen.add_sums(v["gen_sum"], v["gen_outer"], v["gen_n"])
            real.add_sums(v["real_sum"], v["real_outer"], v["real_n"])
        notes = []
        for label, st in (("generated", gen), ("real", real)):
            if st.count < MIN_RECOMMENDED:
                notes.append(f"FID on {st.count} {label} frames (< {MIN_RECOMMENDED}): biased and "
                             "not comparable with FIDs on other N")
        for note in notes:
            warnings.warn(note, RuntimeWarning, stacklevel=2)
        self.last_details = {"n_generated": gen.count, "n_real": real.count, "n_videos": len(values),
                          "warnings": notes}
        return frechet_distance(gen.mean(), gen.cov(), real.mean(), real.cov())

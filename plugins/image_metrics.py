"""Image metrics for talking-face generation (FID, LPIPS, SSIM, PSNR) and the weights they need."""

from __future__ import annotations

from collections.abc import Callable

import bench
from bench.specs import GPU_IF_AVAILABLE, MetricSpec
from bench.weights.catalog import IMAGE_METRIC_WEIGHTS

TASK = "talking-face"
_IQ = "bench.metrics.image_quality"

METRICS = (
    MetricSpec("fid", TASK, "lower", "bench.metrics.fid:FidMetric",
               "FID (pytorch-fid Inception, 2048-d) of generated vs real face crops, all frames "
               "pooled over the split; the real set is the ground truth, or the identity video "
               "under cross-dub", {"crop": "face"}, resources=GPU_IF_AVAILABLE),
    MetricSpec("lpips", TASK, "lower", "bench.metrics.lpips_metric:LpipsMetric",
               "LPIPS v0.1 alex on face crops vs ground truth; frames -> video mean -> mean",
               {"region": "face", "net": "alex"}, resources=GPU_IF_AVAILABLE),
    MetricSpec("ssim", TASK, "higher", f"{_IQ}:SsimMetric",
               "SSIM (Gaussian sigma 1.5, data range 255) on face crops vs ground truth",
               {"region": "face"}),
    MetricSpec("psnr", TASK, "higher", f"{_IQ}:PsnrMetric",
               "PSNR (dB, data range 255) on face crops vs ground truth", {"region": "face"}),
    MetricSpec("ssim-frame", TASK, "higher", f"{_IQ}:SsimMetric",
               "SSIM on full frames vs ground truth", {"region": "frame"}),
    MetricSpec("psnr-frame", TASK, "higher", f"{_IQ}:PsnrMetric",
               "PSNR on full frames vs ground truth", {"region": "frame"}),
)


@bench.hookimpl
def bench_register_metrics(register: Callable[[object], None]) -> None:
    """FID, LPIPS, SSIM, PSNR (face crop) and full-frame SSIM/PSNR."""
    for spec in METRICS:
        register(spec)


@bench.hookimpl
def bench_register_weights(register: Callable[[object], None]) -> None:
    """FID Inception, LPIPS backbones (alex, vgg, squeeze) and their shipped linear heads."""
    for spec in IMAGE_METRIC_WEIGHTS:
        register(spec)

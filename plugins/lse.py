"""LSE-C / LSE-D metrics (SyncNet) and the weights they use."""

from __future__ import annotations

import bench
from bench.metrics.lse_weights import S3FD, SYNCNET_EMBEDDED, SYNCNET_V2
from bench.specs import GPU_IF_AVAILABLE, MetricSpec

FACTORY = "bench.metrics.lse_metric:LseMetric"


@bench.hookimpl
def bench_register_metrics(register) -> None:
    """LSE-C (higher is better) and LSE-D (lower) with the embedded SyncNet and with syncnet_v2."""
    for which, direction, what in (("lse-c", "higher", "confidence: median minus minimum"),
                                   ("lse-d", "lower", "minimum mean distance")):
        register(MetricSpec(
            name=which, task="talking-face", direction=direction, factory=FACTORY,
            description=f"SyncNet {what} over offsets -15..15 (embedded-track SyncNet, whole frame)",
            options={"which": which, "protocol": "whole-frame", "weights": "syncnet-embedded",
                     "vshift": 15}, resources=GPU_IF_AVAILABLE))
        register(MetricSpec(
            name=f"{which}-v2", task="talking-face", direction=direction, factory=FACTORY,
            description=f"SyncNet {what} with the official syncnet_v2.model (comparable to papers "
                        "when the protocol matches; set protocol='face-track' for real videos)",
            options={"which": which, "protocol": "whole-frame", "weights": "syncnet-v2",
                     "vshift": 15}, resources=GPU_IF_AVAILABLE))


@bench.hookimpl
def bench_register_weights(register) -> None:
    """syncnet_v2 and S3FD (fetched on request) and the SyncNet shipped for the embedded track."""
    for spec in (SYNCNET_V2, S3FD, SYNCNET_EMBEDDED):
        register(spec)

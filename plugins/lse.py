"""LSE-C / LSE-D metrics (SyncNet) and the weights they use."""

from __future__ import annotations

import bench
from bench.specs import MetricSpec, WeightsSpec

SYNCNET_V2_URL = "http://www.robots.ox.ac.uk/~vgg/software/lipsync/data/syncnet_v2.model"
S3FD_URL = "https://www.robots.ox.ac.uk/~vgg/software/lipsync/data/sfd_face.pth"
EMBEDDED_PATH = "bench/data/syncnet/syncnet_embedded.pt"
EMBEDDED_SHA256 = "TBD"
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
                     "vshift": 15}))
        register(MetricSpec(
            name=f"{which}-v2", task="talking-face", direction=direction, factory=FACTORY,
            description=f"SyncNet {what} with the official syncnet_v2.model (comparable to papers "
                        "when the protocol matches; set protocol='face-track' for real videos)",
            options={"which": which, "protocol": "whole-frame", "weights": "syncnet-v2",
                     "vshift": 15}))


@bench.hookimpl
def bench_register_weights(register) -> None:
    """syncnet_v2 and S3FD (downloaded on request) and the SyncNet shipped for the embedded track."""
    register(WeightsSpec(
        name="syncnet-v2", url=SYNCNET_V2_URL, sha256=None, size=None, filename="syncnet_v2.model",
        license="see joonson/syncnet_python", loader="bench.metrics.syncnet:load_syncnet",
        description="SyncNet (Chung & Zisserman 2016) weights used for LSE-C/LSE-D; sha256 is "
                    "pinned after the first verified fetch"))
    register(WeightsSpec(
        name="s3fd", url=S3FD_URL, sha256=None, size=None, filename="sfd_face.pth",
        license="see joonson/syncnet_python", loader="bench.metrics.s3fd:load_s3fd",
        description="S3FD face detector used by the face-track LSE protocol"))
    register(WeightsSpec(
        name="syncnet-embedded", url="", sha256=EMBEDDED_SHA256, size=None,
        filename="syncnet_embedded.pt", loader="bench.metrics.syncnet:load_syncnet",
        shipped_path=EMBEDDED_PATH,
        description="small SyncNet trained on the embedded talking-face train split "
                    "(docs/syncnet-embedded.md)"))

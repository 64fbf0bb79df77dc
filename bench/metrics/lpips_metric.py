"""LPIPS (lpips 0.1.4, v0.1) between generated and ground-truth frames, without downloads.

The network is ``lpips.LPIPS(..., pnet_rand=True)`` so torchvision never downloads; the backbone
comes from the weights registry and the linear heads from the verified file shipped in the lpips
package. Per frame on the face crop (default) or full frame, averaged per video, then over videos.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any

import numpy as np

from bench import devices
from bench.interfaces import SampleError
from bench.metrics.frames import check_region, ground_truth_pair, region_frames
from bench.samples import Clip
from bench.weights import registry
from bench.weights.catalog import LPIPS_WEIGHTS

LIN_LAYERS = {"alex": 5, "vgg": 5, "squeeze": 7}


@functools.cache
def _torchvision_keys(name: str) -> frozenset[str]:
    import torchvision

    return frozenset(getattr(torchvision.models, name)(weights=None).state_dict())


def alexnet_keys() -> frozenset[str]:
    """State-dict keys of torchvision's AlexNet (the LPIPS alex backbone file)."""
    return _torchvision_keys("alexnet")


def vgg16_keys() -> frozenset[str]:
    """State-dict keys of torchvision's VGG16."""
    return _torchvision_keys("vgg16")


def squeezenet_keys() -> frozenset[str]:
    """State-dict keys of torchvision's SqueezeNet 1.1."""
    return _torchvision_keys("squeezenet1_1")


def _lin_keys(net: str) -> set[str]:
    return {f"lin{i}.model.1.weight" for i in range(LIN_LAYERS[net])}


def alex_lin_keys() -> set[str]:
    """Keys of the LPIPS v0.1 alex linear heads."""
    return _lin_keys("alex")


def vgg_lin_keys() -> set[str]:
    """Keys of the LPIPS v0.1 vgg linear heads."""
    return _lin_keys("vgg")


def squeeze_lin_keys() -> set[str]:
    """Keys of the LPIPS v0.1 squeeze linear heads."""
    return _lin_keys("squeeze")


def build_lpips(net: str = "alex", backbone=None, lin=None):
    """An ``lpips.LPIPS`` v0.1 model with registry weights; WeightsUnavailable when absent.

    ``backbone``/``lin`` override the default specs (tests use generated files).
    """
    if net not in LPIPS_WEIGHTS:
        raise ValueError(f"LPIPS net must be one of {sorted(LPIPS_WEIGHTS)}, got {net!r}")
    backbone = backbone or LPIPS_WEIGHTS[net][0]
    lin = lin or LPIPS_WEIGHTS[net][1]
    backbone_state = registry.load_state_dict(backbone)
    lin_state = registry.load_state_dict(lin)
    import lpips  # after the weights: absent weights cost no torchvision import
    import torch

    with warnings.catch_warnings():  # lpips passes torchvision's deprecated pretrained=; cosmetic
        warnings.filterwarnings("ignore", message=".*deprecated since 0.13", category=UserWarning)
        model = lpips.LPIPS(net=net, version="0.1", pretrained=True, pnet_rand=True, verbose=False)
    # lpips keeps torchvision's feature indices inside its slices: net.sliceK.<i>.* = features.<i>.*
    mapped = {}
    for key in model.state_dict():
        if key.startswith("net.slice"):
            source = "features." + key.split(".", 2)[2]
            if source not in backbone_state:
                raise registry.WeightsIntegrityError(
                    f"{registry.weights_path(backbone)} ({backbone.name}) lacks {source}")
            mapped[key] = backbone_state[source]
    result = model.load_state_dict({**mapped, **lin_state}, strict=False)
    loaded = set(mapped) | set(lin_state)
    if result.unexpected_keys or not _lin_keys(net) <= loaded:
        raise registry.WeightsIntegrityError(
            f"LPIPS {net}: linear heads not fully loaded from {registry.weights_path(lin)}")
    with torch.no_grad():  # the lin weights the model now holds must be the verified ones
        for key in _lin_keys(net):
            if not torch.equal(model.state_dict()[key], lin_state[key]):
                raise registry.WeightsIntegrityError(f"LPIPS {net}: {key} did not load")
    return model.eval().requires_grad_(False)


def check_lpips_input(x: Any, name: str) -> None:
    """Raise ValueError unless ``x`` is a finite float (N, 3, H, W) tensor within [-1, 1]."""
    import torch

    if not isinstance(x, torch.Tensor):
        raise TypeError(f"LPIPS {name}: expected a torch tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise ValueError(
            f"LPIPS {name}: got {x.dtype} input; the network takes float RGB in [-1, 1]. Pass "
            "uint8 frames to the LpipsMetric object instead, which converts them")
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"LPIPS {name}: expected RGB (N, 3, H, W), got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"LPIPS {name}: input contains NaN or inf")
    lo, hi = float(x.min()), float(x.max())
    if lo < -1 or hi > 1:
        raise ValueError(f"LPIPS {name}: values span [{lo:.3g}, {hi:.3g}], outside [-1, 1]")
    if lo >= 0 and hi <= 1:
        raise ValueError(
            f"LPIPS {name}: values lie in [0, 1] ([{lo:.3g}, {hi:.3g}]); LPIPS expects [-1, 1]. "
            "Scale with 2x - 1, or pass uint8 frames to the LpipsMetric object")


def lpips_distance(model, x0, x1):
    """Per-image LPIPS (N,) between two validated [-1, 1] batches."""
    check_lpips_input(x0, "first input")
    check_lpips_input(x1, "second input")
    if x0.shape != x1.shape:
        raise ValueError(f"LPIPS inputs differ in shape: {tuple(x0.shape)} vs {tuple(x1.shape)}")
    return _distance(model, x0, x1)


def _distance(model, x0, x1):
    # no range heuristic here: callers converted from uint8 (a bright crop may sit in [0, 1])
    import torch

    with torch.no_grad():
        return model(x0, x1).reshape(-1)


def _to_signed(frames: list[np.ndarray]):
    import torch

    return torch.stack([torch.tensor(f).permute(2, 0, 1).float() for f in frames]) / 127.5 - 1


class LpipsMetric:
    """LPIPS against ground truth: per-frame, video mean, then mean over videos (lower is better).

    The network runs on the task's device (:func:`bench.devices.current`: CPU unless a cluster
    task got a GPU).
    """

    def __init__(self, region: str = "face", net: str = "alex", batch_size: int = 32,
                 backbone=None, lin=None) -> None:
        self.region = check_region(region)
        self.net = net
        self.batch_size = int(batch_size)
        self.device = devices.current()
        self.model = build_lpips(net, backbone, lin).to(self.device)
        self.backbone = backbone or LPIPS_WEIGHTS[net][0]
        self.lin = lin or LPIPS_WEIGHTS[net][1]

    def fingerprint(self) -> Mapping[str, Any]:
        """Everything that changes the number."""
        return {
            "metric": "lpips",
            "net": self.net,
            "version": "0.1",
            "lpips_package": metadata.version("lpips"),
            "lin_sha256": registry.sha256_file(registry.weights_path(self.lin)),
            "backbone_sha256": registry.sha256_file(registry.weights_path(self.backbone)),
            "backbone_url": self.backbone.url,
            "input": "uint8 RGB -> x / 127.5 - 1 in [-1, 1]; [0, 1] input rejected",
            "region": self.region,
            "resolution": "native crop/frame size, no resize",
            "aggregation": "frames -> video mean -> mean over videos",
        }

    def per_sample(self, sample: Clip, prediction: Mapping[str, Any]) -> Mapping[str, Any]:
        """Mean LPIPS over the frames of one clip."""
        gen, ref = ground_truth_pair(sample, prediction)
        gen_crops = region_frames(sample, gen, self.region)
        ref_crops = region_frames(sample, ref, self.region)
        values = []
        # frames are batched in runs of equal crop size, since face boxes may change size
        start = 0
        while start < len(gen_crops):
            stop = start + 1
            while (stop < len(gen_crops) and stop - start < self.batch_size
                   and gen_crops[stop].shape == gen_crops[start].shape):
                stop += 1
            try:
                d = _distance(self.model, _to_signed(gen_crops[start:stop]).to(self.device),
                              _to_signed(ref_crops[start:stop]).to(self.device))
            except (ValueError, RuntimeError) as exc:
                raise SampleError(f"clip {sample.id!r}: LPIPS failed on frames {start}-{stop - 1}: "
                                  f"{exc}") from exc
            values.extend(d.tolist())
            start = stop
        return {"lpips": float(np.mean(values)), "n_frames": len(values)}

    def aggregate(self, values: Sequence[Mapping[str, Any]]) -> float:
        """Unweighted mean of the per-video means."""
        if not values:
            raise ValueError("LPIPS of an empty set of videos")
        return float(np.mean([v["lpips"] for v in values]))

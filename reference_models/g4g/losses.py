"""Multi-scale supervision: mask-weighted L1 + perceptual terms at several resolutions.

VGG19 ImageNet weights cannot be downloaded in every setting, so the perceptual network is
selectable: ``vgg19`` loads a local torchvision VGG19 state dict (the paper-scale config), while
``random`` uses a frozen, seeded random convolutional feature pyramid plus image-gradient terms,
which needs no download (random conv features still match local structure and texture).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class RandomFeaturePerceptual(nn.Module):
    """Frozen random conv pyramid (fixed seed, so it is the same network everywhere)."""

    def __init__(self, widths: tuple[int, ...] = (16, 32, 64), seed: int = 1234) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        layers, cin = [], 3
        for cout in widths:
            conv = nn.Conv2d(cin, cout, 3, 2, 1)
            with torch.no_grad():
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen)
                                  * (2.0 / (9 * cin)) ** 0.5)
                conv.bias.zero_()
            layers.append(conv)
            cin = cout
        self.layers = nn.ModuleList(layers)
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        h = x * 2.0 - 1.0
        for conv in self.layers:
            h = F.leaky_relu(conv(h), 0.2)
            feats.append(h)
        return feats


class VGG19Perceptual(nn.Module):
    """torchvision VGG19 features at relu1_1..relu5_1, weights from a local file only."""

    CUTS = (2, 7, 12, 21, 30)

    def __init__(self, weights_path: str) -> None:
        super().__init__()
        from torchvision.models import vgg19

        path = Path(weights_path)
        if not weights_path or not path.is_file():
            raise FileNotFoundError(
                f"VGG19 perceptual loss needs torchvision's vgg19 weights; not found at "
                f"{weights_path!r} (set vgg19_weights, or use perceptual='random')")
        net = vgg19(weights=None)
        state = torch.load(path, map_location="cpu", weights_only=True)
        net.load_state_dict(state)
        self.features = net.features[: self.CUTS[-1]].eval()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN)[None, :, None, None])
        self.register_buffer("std", torch.tensor(IMAGENET_STD)[None, :, None, None])
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        h = (x - self.mean) / self.std
        feats, start = [], 0
        for cut in self.CUTS:
            h = self.features[start:cut](h)
            feats.append(h)
            start = cut
        return feats


def build_perceptual(kind: str, vgg19_weights: str = "") -> nn.Module:
    """The perceptual feature network named by the config."""
    if kind == "random":
        return RandomFeaturePerceptual()
    if kind == "vgg19":
        return VGG19Perceptual(vgg19_weights)
    raise ValueError(f"unknown perceptual network {kind!r}")


def _weighted_l1(a: torch.Tensor, b: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    if weight.shape[-2:] != a.shape[-2:]:
        weight = F.interpolate(weight, size=a.shape[-2:], mode="area")
    return (weight * (a - b).abs()).mean() / weight.mean()


def image_gradients(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Horizontal and vertical finite differences, padded back to the input size."""
    gx = F.pad(x[..., :, 1:] - x[..., :, :-1], (0, 1, 0, 0))
    gy = F.pad(x[..., 1:, :] - x[..., :-1, :], (0, 0, 0, 1))
    return gx, gy


def multiscale_loss(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor,
                    perceptual: nn.Module | None, scales: tuple[float, ...] = (1.0, 0.5, 0.25),
                    w_l1: float = 1.0, w_perceptual: float = 1.0) -> dict[str, torch.Tensor]:
    """L1 and perceptual losses of (N,3,H,W) images at each scale, weighted by (1|N,1,H,W) map.

    Returns the terms ``l1``, ``perceptual`` and their weighted sum ``total``.
    """
    l1 = pred.new_zeros(())
    perc = pred.new_zeros(())
    weight = weight.expand(pred.shape[0], 1, *pred.shape[-2:])
    for s in scales:
        if s == 1.0:
            p, t, wm = pred, target, weight
        else:
            size = (max(1, round(pred.shape[-2] * s)), max(1, round(pred.shape[-1] * s)))
            p = F.interpolate(pred, size=size, mode="area")
            t = F.interpolate(target, size=size, mode="area")
            wm = F.interpolate(weight, size=size, mode="area")
        l1 = l1 + _weighted_l1(p, t, wm)
        if perceptual is not None and w_perceptual > 0:
            for fp, ft in zip(perceptual(p), perceptual(t)):
                perc = perc + _weighted_l1(fp, ft, wm)
            if isinstance(perceptual, RandomFeaturePerceptual):
                for gp, gt in zip(image_gradients(p), image_gradients(t)):
                    perc = perc + _weighted_l1(gp, gt, wm)
    n = len(scales)
    l1, perc = l1 / n, perc / n
    return {"l1": l1, "perceptual": perc, "total": w_l1 * l1 + w_perceptual * perc}

"""Building blocks: conv blocks, residual blocks, AdaIN and the adaptive affine transform (AdaAT)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class ConvBlock(nn.Module):
    """Conv -> BatchNorm -> ReLU (the encoder unit shared by every network here)."""

    def __init__(self, cin: int, cout: int, k: int = 3, stride: int | tuple[int, int] = 1,
                 padding: int | None = None) -> None:
        super().__init__()
        padding = k // 2 if padding is None else padding
        self.conv = nn.Conv2d(cin, cout, k, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


class ResBlock(nn.Module):
    """Two 3x3 convs with an identity shortcut."""

    def __init__(self, ch: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(ch)
        self.conv2 = nn.Conv2d(ch, ch, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(x + self.bn2(self.conv2(h)))


def adain(x: torch.Tensor, y: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """AdaIN(x, y) = sigma(y) (x - mu(x)) / sigma(x) + mu(y), statistics per sample and channel."""
    if x.shape[:2] != y.shape[:2]:
        raise ValueError(f"adain: batch/channels differ: {tuple(x.shape)} vs {tuple(y.shape)}")
    mx = x.mean(dim=(2, 3), keepdim=True)
    sx = (x.var(dim=(2, 3), keepdim=True, unbiased=False) + eps).sqrt()
    my = y.mean(dim=(2, 3), keepdim=True)
    sy = (y.var(dim=(2, 3), keepdim=True, unbiased=False) + eps).sqrt()
    return sy * (x - mx) / sx + my


class AdaINResBlock(nn.Module):
    """Residual block whose normalisation is AdaIN towards the reference features ``y``.

    This is the intra-modal alignment unit: the masked face's features take the per-channel
    statistics of the reference (identity/pose) features.
    """

    def __init__(self, ch: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, 3, 1, 1)
        self.conv2 = nn.Conv2d(ch, ch, 3, 1, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = F.relu(adain(self.conv1(x), y))
        h = adain(self.conv2(h), y)
        return F.relu(x + h)


class AdaAT(nn.Module):
    """Adaptive affine transformation of feature maps (DINet's AdaAT).

    From a code vector ``p``, predict per channel c a scale s_c = 2 sigmoid(.), a rotation
    theta_c = pi tanh(.) and a translation t_c = tanh(.) in R^2, and resample channel c of the
    feature map on the grid s_c R(theta_c) [x, y] + t_c. DINet does this with one 3-D grid_sample
    over C x H x W whose depth coordinate points each channel at itself; folding channels into the
    batch and using a 2-D grid_sample gives the same values at a lower cost.
    """

    def __init__(self, code_dim: int, channels: int, hidden: int = 128) -> None:
        super().__init__()
        self.channels = channels
        self.mlp = nn.Sequential(nn.Linear(code_dim, hidden), nn.ReLU())
        self.scale = nn.Linear(hidden, channels)
        self.rotation = nn.Linear(hidden, channels)
        self.translation = nn.Linear(hidden, 2 * channels)

    def params(self, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-channel (scale (B,C), angle (B,C), translation (B,C,2)) from the code ``p``."""
        h = self.mlp(p)
        s = 2.0 * torch.sigmoid(self.scale(h))
        theta = math.pi * torch.tanh(self.rotation(h))
        t = torch.tanh(self.translation(h)).view(-1, self.channels, 2)
        return s, theta, t

    def forward(self, feat: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        b, c, h, w = feat.shape
        if c != self.channels:
            raise ValueError(f"AdaAT built for {self.channels} channels, got {c}")
        s, theta, t = self.params(p)
        ys = torch.linspace(-1.0, 1.0, h, device=feat.device, dtype=feat.dtype)
        xs = torch.linspace(-1.0, 1.0, w, device=feat.device, dtype=feat.dtype)
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")  # (H, W)
        cos, sin = torch.cos(theta)[..., None, None], torch.sin(theta)[..., None, None]
        s = s[..., None, None]
        # rotate, scale, translate the sampling grid of every channel
        x2 = s * (cos * gx - sin * gy) + t[..., 0, None, None]
        y2 = s * (sin * gx + cos * gy) + t[..., 1, None, None]
        grid = torch.stack([x2, y2], dim=-1).view(b * c, h, w, 2)
        out = F.grid_sample(feat.reshape(b * c, 1, h, w), grid, mode="bilinear",
                            padding_mode="zeros", align_corners=True)
        return out.view(b, c, h, w)

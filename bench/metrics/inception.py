"""The FID Inception v3 feature extractor (pytorch-fid 0.3.0, 2048-d pool3), built without downloads.

pytorch-fid's ``fid_inception_v3()`` always calls ``load_state_dict_from_url``; here the same
module graph (torchvision's Inception v3 with pytorch-fid's patched blocks) is built with random
init and the state dict comes from the weights registry, so absent weights raise
:class:`bench.weights.WeightsUnavailable` instead of downloading or running with random weights.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
import torchvision
from pytorch_fid import inception as fid_blocks
from torch import nn

from bench.specs import WeightsSpec
from bench.weights import registry
from bench.weights.catalog import FID_INCEPTION

FEATURE_DIMS = 2048
INPUT_SIZE = 299


def build_fid_inception() -> nn.Module:
    """torchvision Inception v3 patched into the FID graph (pytorch-fid's blocks), random init."""
    net = torchvision.models.inception_v3(
        num_classes=1008, aux_logits=False, weights=None, init_weights=False
    )
    net.Mixed_5b = fid_blocks.FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = fid_blocks.FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = fid_blocks.FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = fid_blocks.FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = fid_blocks.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = fid_blocks.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = fid_blocks.FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = fid_blocks.FIDInceptionE_1(1280)
    net.Mixed_7c = fid_blocks.FIDInceptionE_2(2048)
    return net


@functools.lru_cache(maxsize=1)
def expected_keys() -> frozenset[str]:
    """State-dict keys of the FID Inception file (the registry's key-set check)."""
    return frozenset(build_fid_inception().state_dict())


class FidFeatureExtractor(nn.Module):
    """Images in [0, 1] (N, 3, H, W) -> (N, 2048) pool3 features, as pytorch-fid's InceptionV3([3]).

    Bilinear resize to 299 (align_corners=False), then 2x - 1 to [-1, 1], then the FID graph.
    """

    def __init__(self, state_dict: Mapping[str, Any]) -> None:
        super().__init__()
        net: Any = build_fid_inception()  # submodules looked up by name below
        net.load_state_dict(state_dict, strict=True)
        self.layers = nn.Sequential(
            net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3,
            nn.MaxPool2d(kernel_size=3, stride=2),
            net.Conv2d_3b_1x1, net.Conv2d_4a_3x3,
            nn.MaxPool2d(kernel_size=3, stride=2),
            net.Mixed_5b, net.Mixed_5c, net.Mixed_5d, net.Mixed_6a,
            net.Mixed_6b, net.Mixed_6c, net.Mixed_6d, net.Mixed_6e,
            net.Mixed_7a, net.Mixed_7b, net.Mixed_7c,
            nn.AdaptiveAvgPool2d(output_size=(1, 1)),
        )
        self.requires_grad_(False)
        self.eval()

    @classmethod
    def from_registry(cls, spec: WeightsSpec = FID_INCEPTION) -> FidFeatureExtractor:
        """Load the verified weights file; raises WeightsUnavailable when absent or bad."""
        return cls(registry.load_state_dict(spec))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(images, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
        x = 2 * x - 1
        return self.layers(x).flatten(1)


def to_unit_batch(crops: list, size: int | None = None) -> torch.Tensor:
    """uint8 (H, W, 3) images -> float (N, 3, H, W) in [0, 1], like torchvision's ToTensor.

    Images of differing sizes (face crops) are each resized to ``size`` first, with the same
    bilinear rule the extractor uses, so that the extractor's own resize is then the identity.
    """
    tensors = [torch.tensor(c).permute(2, 0, 1).float().div(255) for c in crops]  # copies: crops of shared frames are read-only
    if size is None and len({t.shape for t in tensors}) == 1:
        return torch.stack(tensors)
    size = size or INPUT_SIZE
    return torch.cat([
        F.interpolate(t[None], size=(size, size), mode="bilinear", align_corners=False)
        for t in tensors
    ])

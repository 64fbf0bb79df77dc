"""SyncNet (joonson/syncnet_python, ``syncnet_v2.model``) and its weights loader.

The module layout mirrors the reference class ``S`` layer for layer so that the official state
dict loads strictly at ``width=1.0``; ``width`` scales every channel count for the small models
trained in this project (same code path, same input sizes).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from bench.weights import registry
from bench.hashing import sha256_file

__all__ = [
    "SyncNet",
    "WeightsError",
    "WeightsUnavailable",
    "expected_keys",
    "load_syncnet",
    "official_keys",
    "sha256_file",
]


class WeightsUnavailable(registry.WeightsUnavailable):
    """A weights file the metric needs is not on disk; the message says how to install it."""


class WeightsError(registry.WeightsIntegrityError):
    """A weights file exists but does not match the network (missing/unknown keys, bad shapes)."""


def _ch(n: int, width: float) -> int:
    """Scaled channel count, at least 1."""
    return max(1, round(n * width))


class SyncNet(nn.Module):
    """Two-stream SyncNet: audio (N×1×13×20 MFCC) and lips (N×3×5×224×224 BGR 0-255) -> 1024-d."""

    def __init__(self, width: float = 1.0, embed_dim: int = 1024) -> None:
        super().__init__()
        if width <= 0:
            raise ValueError(f"width must be positive, got {width}")
        self.width = float(width)
        c = lambda n: _ch(n, width)
        fc = c(512)
        emb = _ch(embed_dim, width)
        self.netcnnaud = nn.Sequential(
            nn.Conv2d(1, c(64), 3, 1, 1), nn.BatchNorm2d(c(64)), nn.ReLU(inplace=True),
            nn.MaxPool2d(1, 1),
            nn.Conv2d(c(64), c(192), 3, 1, 1), nn.BatchNorm2d(c(192)), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, (1, 2)),
            nn.Conv2d(c(192), c(384), 3, padding=1), nn.BatchNorm2d(c(384)), nn.ReLU(inplace=True),
            nn.Conv2d(c(384), c(256), 3, padding=1), nn.BatchNorm2d(c(256)), nn.ReLU(inplace=True),
            nn.Conv2d(c(256), c(256), 3, padding=1), nn.BatchNorm2d(c(256)), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(c(256), fc, (5, 4), padding=0), nn.BatchNorm2d(fc), nn.ReLU(inplace=True),
        )
        self.netfcaud = nn.Sequential(
            nn.Linear(fc, fc), nn.BatchNorm1d(fc), nn.ReLU(), nn.Linear(fc, emb),
        )
        self.netfclip = nn.Sequential(
            nn.Linear(fc, fc), nn.BatchNorm1d(fc), nn.ReLU(), nn.Linear(fc, emb),
        )
        self.netcnnlip = nn.Sequential(
            nn.Conv3d(3, c(96), (5, 7, 7), (1, 2, 2), 0), nn.BatchNorm3d(c(96)),
            nn.ReLU(inplace=True),
            nn.MaxPool3d((1, 3, 3), (1, 2, 2)),
            nn.Conv3d(c(96), c(256), (1, 5, 5), (1, 2, 2), (0, 1, 1)), nn.BatchNorm3d(c(256)),
            nn.ReLU(inplace=True),
            nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)),
            nn.Conv3d(c(256), c(256), (1, 3, 3), padding=(0, 1, 1)), nn.BatchNorm3d(c(256)),
            nn.ReLU(inplace=True),
            nn.Conv3d(c(256), c(256), (1, 3, 3), padding=(0, 1, 1)), nn.BatchNorm3d(c(256)),
            nn.ReLU(inplace=True),
            nn.Conv3d(c(256), c(256), (1, 3, 3), padding=(0, 1, 1)), nn.BatchNorm3d(c(256)),
            nn.ReLU(inplace=True),
            nn.MaxPool3d((1, 3, 3), (1, 2, 2)),
            nn.Conv3d(c(256), fc, (1, 6, 6), padding=0), nn.BatchNorm3d(fc), nn.ReLU(inplace=True),
        )

    def forward_aud(self, x: torch.Tensor) -> torch.Tensor:
        """Audio embedding from MFCC windows N×1×13×20."""
        h = self.netcnnaud(x)
        return self.netfcaud(h.reshape(h.shape[0], -1))

    def forward_lip(self, x: torch.Tensor) -> torch.Tensor:
        """Lip embedding from 5-frame windows N×3×5×224×224 (BGR, 0-255 float)."""
        return self.netfclip(self.forward_lipfeat(x))

    def forward_lipfeat(self, x: torch.Tensor) -> torch.Tensor:
        """512-d (scaled by width) lip features before the fully connected head."""
        h = self.netcnnlip(x)
        return h.reshape(h.shape[0], -1)

    def forward(self, mfcc: torch.Tensor, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Both embeddings at once (audio, lip)."""
        return self.forward_aud(mfcc), self.forward_lip(frames)


def expected_keys(width: float = 1.0) -> dict[str, tuple[int, ...]]:
    """State-dict keys and shapes that ``load_syncnet`` accepts (without num_batches_tracked)."""
    sd = SyncNet(width).state_dict()
    return {k: tuple(v.shape) for k, v in sd.items() if not k.endswith("num_batches_tracked")}


def official_keys() -> set[str]:
    """The 88 state-dict keys of ``syncnet_v2.model`` (for the weights registry's key check)."""
    return set(expected_keys(1.0))


def _infer_width(state: Mapping[str, torch.Tensor], path: Path) -> float:
    """Width from the first audio conv (64 channels at width 1)."""
    w = state.get("netcnnaud.0.weight")
    if w is None:
        raise WeightsError(f"{path}: not a SyncNet state dict (no 'netcnnaud.0.weight' key)")
    return w.shape[0] / 64.0


def load_syncnet(path: str | os.PathLike[str], width: float | None = None,
                 install_hint: str = "bench weights fetch syncnet-v2") -> SyncNet:
    """Load SyncNet weights strictly from an official state dict or ``{"state_dict", "width"}``.

    The model is returned in eval mode. A missing file raises :class:`WeightsUnavailable`; a
    state dict with missing, unknown or mis-shaped tensors raises :class:`WeightsError`.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsUnavailable(
            f"SyncNet weights not found at {path}; install them with `{install_hint}`",
            install=install_hint,
        )
    try:
        obj: Any = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # corrupt file, pickled module, wrong format
        raise WeightsError(f"{path}: cannot be read as a torch state dict ({e})") from e
    if isinstance(obj, Mapping) and "state_dict" in obj:
        state = obj["state_dict"]
        if width is None and "width" in obj:
            width = float(obj["width"])
    else:
        state = obj
    if not isinstance(state, Mapping):
        raise WeightsError(f"{path}: expected a state dict, got {type(state).__name__}")
    if width is None:
        width = _infer_width(state, path)
    model = SyncNet(width)
    want = expected_keys(width)
    got = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    missing = sorted(set(want) - set(got))
    unknown = sorted(set(got) - set(want))
    if missing or unknown:
        raise WeightsError(
            f"{path}: state dict does not match SyncNet(width={width}): "
            f"{len(missing)} missing keys {missing[:5]}, {len(unknown)} unknown keys {unknown[:5]}"
        )
    bad = [(k, tuple(got[k].shape), want[k]) for k in want if tuple(got[k].shape) != want[k]]
    if bad:
        raise WeightsError(f"{path}: tensor shapes differ from SyncNet(width={width}): {bad[:5]}")
    # num_batches_tracked is optional in the official file; keep the model's own counters.
    full = model.state_dict()
    full.update({k: v for k, v in state.items() if k in full})
    model.load_state_dict(full, strict=True)
    return model.eval()

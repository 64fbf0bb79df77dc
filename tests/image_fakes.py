"""Generated stand-ins for the FID Inception and LPIPS backbone files, and small test clips.

The official files are not available offline; these have random values in the same format, are
written under the official filenames into a temporary torch hub cache (so pytorch-fid and lpips
find them too), and come with specs whose sha256 is that of the generated file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from pathlib import Path

import torch

from bench.specs import WeightsSpec
from bench.weights.catalog import FID_INCEPTION, LPIPS_ALEX_BACKBONE


def _randomise(state: dict, seed: int) -> dict:
    # He-normal convolutions and jittered batch-norm statistics keep activations at unit scale
    # through the deep graph (torch's default init makes Inception features vanish to ~1e-8).
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for key, value in state.items():
        if value.ndim == 4:
            out[key] = torch.randn(value.shape, generator=gen) * math.sqrt(2 / value[0].numel())
        elif key.endswith("running_var"):
            out[key] = 0.5 + torch.rand(value.shape, generator=gen)
        elif key.endswith("running_mean"):
            out[key] = 0.1 * torch.randn(value.shape, generator=gen)
        elif value.is_floating_point():
            out[key] = 0.05 * torch.randn(value.shape, generator=gen)
        else:
            out[key] = value.clone()
    return out


def random_fid_state(seed: int = 0) -> dict:
    """A random state dict with exactly the keys and shapes of pt_inception-2015-12-05."""
    from bench.metrics.inception import build_fid_inception

    state = _randomise(build_fid_inception().state_dict(), seed)
    # batch-norm gammas of one keep the scale; only running statistics are jittered
    return {k: (torch.ones_like(v) if k.endswith("bn.weight") else v) for k, v in state.items()}


def random_alexnet_state(seed: int = 0) -> dict:
    """A random state dict with exactly the keys and shapes of alexnet-owt-7be5be79."""
    import torchvision

    return _randomise(torchvision.models.alexnet(weights=None).state_dict(), seed)


def install(state: dict, spec: WeightsSpec, torch_home: Path) -> WeightsSpec:
    """Save ``state`` under the spec's filename in ``torch_home``'s hub cache; spec with its hash."""
    path = Path(torch_home) / "hub" / "checkpoints" / spec.filename
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return dataclasses.replace(spec, sha256=sha, size=path.stat().st_size)


def install_fid(torch_home: Path, seed: int = 0) -> tuple[WeightsSpec, dict]:
    """Generated FID Inception weights in place; returns (spec with their sha256, state dict)."""
    state = random_fid_state(seed)
    return install(state, FID_INCEPTION, torch_home), state


def install_alexnet(torch_home: Path, seed: int = 0) -> tuple[WeightsSpec, dict]:
    """Generated AlexNet backbone weights in place; returns (spec with their sha256, state dict)."""
    state = random_alexnet_state(seed)
    return install(state, LPIPS_ALEX_BACKBONE, torch_home), state


def make_clip(clip_id: str = "clip-0", n_frames: int = 3, height: int = 48, width: int = 56,
              seed: int = 0, with_target: bool = True):
    """A small talking-face clip with smooth random frames, a face box per frame and a target."""
    import numpy as np

    from bench.samples import Clip

    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=(n_frames, height // 4, width // 4, 3))
    frames = np.repeat(np.repeat(base, 4, axis=1), 4, axis=2).astype(np.uint8)
    noise = rng.integers(-20, 21, size=frames.shape)
    target = np.clip(frames.astype(int) + noise, 0, 255).astype(np.uint8)
    boxes = np.tile([[4.0, 6.0, width - 8.0, height - 4.0]], (n_frames, 1))
    audio = np.zeros(int(16000 * n_frames / 25), dtype=np.float32)
    return Clip(id=clip_id, frames=frames, face_boxes=boxes, audio=audio,
                target=target if with_target else None)

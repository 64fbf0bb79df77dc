"""The identity (sha256 and path) of a registered weights file, as it enters cache keys."""

from __future__ import annotations

import os
from pathlib import Path

from bench.errors import Unavailable
from bench.hashing import sha256_file
from bench.specs import WeightsSpec

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def torch_hub_dir() -> Path:
    """torch.hub.get_dir() without importing torch: $TORCH_HOME/hub or ~/.cache/torch/hub."""
    home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "torch")
    return Path(home) / "hub"


def weights_file(spec: WeightsSpec) -> Path:
    """Where the file lives: inside the package when shipped, else the torch hub cache."""
    if spec.shipped_path:
        return PROJECT_ROOT / spec.shipped_path
    return torch_hub_dir() / spec.cache_dir.removeprefix("hub/") / spec.filename


def weights_identity(spec: WeightsSpec) -> dict[str, str]:
    """sha256 and path of the weights; Unavailable (with the install command) when absent."""
    path = weights_file(spec)
    if not path.exists():
        raise Unavailable(f"weights {spec.name!r} not found at {path}",
                          install=f"bench weights fetch {spec.name}")
    digest = sha256_file(path)
    if spec.sha256 and digest != spec.sha256:
        raise Unavailable(f"weights {spec.name!r} at {path} have sha256 {digest}, expected "
                          f"{spec.sha256}", install=f"bench weights fetch {spec.name}")
    return {"sha256": digest, "path": str(path)}

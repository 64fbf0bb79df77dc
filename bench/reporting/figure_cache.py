"""Leaderboard figures drawn once per content: a warm re-run copies the PNG it drew before.

A figure is keyed by everything drawn in it (the caller's ``inputs``, arrays by digest), the
source of the module that draws it and the matplotlib version; the PNG bytes are kept in the
cache directory (``figures/``). Matplotlib writes no timestamp into a PNG, so the bytes copied
are the bytes a fresh drawing gives.
"""

from __future__ import annotations

import base64
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import numpy as np

from bench.feature_cache import JsonDiskCache
from bench.hashing import hash_json, sha256_bytes, sha256_file

FIGURES_VERSION = 1  # bump when what a key covers changes


def array_digest(arr: Any) -> str:
    """A short content digest of an array (dtype, shape and bytes), for figure inputs."""
    a = np.ascontiguousarray(arr)
    return sha256_bytes(f"{a.dtype}{a.shape}".encode() + a.tobytes())


def _cache() -> JsonDiskCache:
    return JsonDiskCache("figures", lambda b: base64.b64encode(b).decode("ascii"),
                         lambda s: base64.b64decode(s.encode("ascii")))


def write_figure(out_dir: str | Path, name: str, inputs: Any,
                 draw: Callable[[Path], None]) -> str:
    """Write ``out_dir/name``: from the cache when a figure with these inputs was drawn before,
    else by ``draw(path)`` (whose bytes are then kept). Returns ``name``."""
    path = Path(out_dir) / name
    try:
        mpl = metadata.version("matplotlib")
    except metadata.PackageNotFoundError:  # pragma: no cover - a dependency
        mpl = ""
    key = hash_json({"version": FIGURES_VERSION, "name": name, "matplotlib": mpl,
                     "code": sha256_file(draw.__code__.co_filename), "inputs": inputs})
    cache = _cache()
    try:
        data: bytes | None = cache[key]
    except KeyError:
        data = None
    path.parent.mkdir(parents=True, exist_ok=True)
    if data is None:
        draw(path)
        cache[key] = path.read_bytes()
    elif not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)
    return name

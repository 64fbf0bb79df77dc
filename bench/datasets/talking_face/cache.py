"""On-disk cache of rendered or preprocessed clips (``BENCH_CACHE_DIR`` or ~/.cache/bench)."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from bench.feature_cache import cache_root  # noqa: F401  (re-exported for the dataset modules)

log = logging.getLogger(__name__)


def array_sha256(a: np.ndarray) -> str:
    """sha256 of an array's raw bytes (C order)."""
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def save_npz(path: Path, **arrays: np.ndarray) -> None:
    """Write an .npz atomically (temp file + rename) so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_npz(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """Arrays ``keys`` from ``path``, or None (with a warning) if the file is unreadable."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in keys}
    except Exception as e:  # noqa: BLE001 - any broken cache file is re-made
        log.warning("%s: unreadable cache file (%s); rebuilding it", path, e)
        return None

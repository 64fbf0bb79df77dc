"""Where a result came from: package version and git sha, libraries, hardware, command."""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

import bench

LIBRARIES = ("numpy", "scipy", "torch", "torchvision", "scikit-learn", "giotto-tda", "giotto-ph",
             "librosa", "lpips", "pytorch-fid", "pandas", "pluggy")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


@lru_cache(maxsize=1)
def package_git_sha() -> str | None:
    """git sha of the tree the installed ``bench`` package was imported from (not the cwd)."""
    root = Path(bench.__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return sha + ("-dirty" if dirty else "")


@lru_cache(maxsize=1)
def cpu_vendor() -> str:
    """The CPU's vendor id (``GenuineIntel``, ``AuthenticAMD``, ...) from /proc/cpuinfo; "" when
    it cannot be read (not Linux, or no such line). Read once per process: ``bench check``
    asks for every committed number."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def hardware() -> dict[str, Any]:
    info: dict[str, Any] = {
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "gpu": None,
    }
    if "torch" not in sys.modules:
        # nothing in this process ran torch (e.g. a unit read entirely from the cache):
        # importing it only to report its threads and GPU would cost seconds
        info["torch_loaded"] = False
        return info
    import torch

    info["torch_threads"] = torch.get_num_threads()
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
        info["cuda"] = torch.version.cuda
    return info


def environment() -> dict[str, Any]:
    """Versions of the package, Python and the numeric libraries, and the hardware."""
    return {
        "bench_version": bench.__version__,
        "bench_git_sha": package_git_sha(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "libraries": {name: _version(name) for name in LIBRARIES},
        "numpy_runtime": np.__version__,
        "hardware": hardware(),
    }


def command_line() -> str:
    """The command that started this process, quoted for a shell."""
    argv = list(sys.argv)
    if argv and argv[0].endswith(("bench", "__main__.py")):
        argv[0] = "bench"
    return " ".join(shlex.quote(a) for a in argv)

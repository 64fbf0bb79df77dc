"""Which torch device the models and metrics of the current task compute on.

One place decides: CPU, unless a cluster task was given a GPU (``Resources.gpus`` on its method or
metric specs, asked for only where the cluster has GPUs) and torch can see it. In-process runs
always compute on CPU, so their numbers stay those of the committed records. Models and metrics
read :func:`current` when they build their networks or run them; they never choose for themselves.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

CPU = "cpu"
_device: contextvars.ContextVar[str] = contextvars.ContextVar("bench_device", default=CPU)


def current() -> str:
    """The device torch code of this task uses: ``"cpu"`` or ``"cuda"``."""
    return _device.get()


@contextmanager
def using(device: str) -> Iterator[str]:
    """Within this block, :func:`current` is ``device``."""
    token = _device.set(device)
    try:
        yield device
    finally:
        _device.reset(token)


def for_assigned_gpus(gpu_ids: Sequence[Any]) -> str:
    """The device for a task given these GPU ids by its scheduler: ``"cuda"`` when it got at
    least one and torch sees CUDA (the scheduler limits CUDA_VISIBLE_DEVICES to the given ones),
    else ``"cpu"``: a GPU that torch cannot use is no reason to fail."""
    if not gpu_ids:
        return CPU
    try:
        import torch
    except ImportError:
        return CPU
    return "cuda" if torch.cuda.is_available() else CPU


def describe(device: str) -> str:
    """The device as records name it: ``cpu``, or ``cuda (<GPU model>)``."""
    if device == CPU:
        return CPU
    import torch

    return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"


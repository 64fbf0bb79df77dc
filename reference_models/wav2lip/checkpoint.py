"""Loading and saving Wav2Lip checkpoints, official (``wav2lip.pth``, ``lipsync_expert.pth``) or ours.

Official files are ``torch.save`` dicts ``{state_dict, optimizer, global_step, global_epoch}``
whose keys carry a ``module.`` prefix when saved from ``nn.DataParallel``.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from reference_models.wav2lip.models import SyncNetColor, Wav2Lip, Wav2LipDiscQual

KINDS: dict[str, type[nn.Module]] = {
    "wav2lip": Wav2Lip,
    "syncnet": SyncNetColor,
    "disc": Wav2LipDiscQual,
}


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read or does not fit the model; names the file."""


def safe_load(path: str | Path) -> dict[str, Any]:
    """``torch.load(weights_only=True)`` of a file holding a dict; errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as exc:
        # weights_only refuses arbitrary pickled objects; nothing is executed from such files.
        raise CheckpointError(f"{path}: cannot be read safely as a torch checkpoint ({exc})") from exc
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: expected a dict, found {type(obj).__name__}")
    return obj


def read_state(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint dict holding ``state_dict``; a bare state dict is wrapped as one."""
    obj = safe_load(path)
    if "state_dict" not in obj:
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return {"state_dict": obj}
        raise CheckpointError(f"{path}: no 'state_dict' entry (keys: {sorted(obj)[:10]})")
    return obj


def strip_module_prefix(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Drop the ``module.`` prefix that ``nn.DataParallel`` adds to every key."""
    return {k.removeprefix("module."): v for k, v in state.items()}


def _check_keys(path: Path, model: nn.Module, state: Mapping[str, torch.Tensor]) -> None:
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong_shape = [
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    if missing or unexpected or wrong_shape:
        def show(items: list[str]) -> str:
            return ", ".join(items[:8]) + (f" ... ({len(items)} in all)" if len(items) > 8 else "")

        parts = [
            f"missing keys: {show(missing)}" if missing else "",
            f"unexpected keys: {show(unexpected)}" if unexpected else "",
            f"shape mismatches: {show(wrong_shape)}" if wrong_shape else "",
        ]
        raise CheckpointError(
            f"{path}: does not fit {type(model).__name__}(width={getattr(model, 'width', 1.0)}); "
            + "; ".join(p for p in parts if p)
        )


def load_checkpoint(path: str | Path, kind: str, width: float | None = None) -> nn.Module:
    """Build the ``kind`` network ("wav2lip", "syncnet" or "disc") and load ``path`` strictly.

    ``width`` defaults to the one stored in the file (ours) or 1 (official). Returns the model in
    eval mode, float32, on the CPU.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown checkpoint kind {kind!r}; expected one of {sorted(KINDS)}")
    path = Path(path)
    obj = read_state(path)
    stored_kind = obj.get("kind")
    if stored_kind is not None and stored_kind != kind:
        raise CheckpointError(f"{path}: holds a {stored_kind!r} network, not {kind!r}")
    if width is None:
        width = float(obj.get("width", 1.0))
    model = KINDS[kind](width=width)
    state = strip_module_prefix(obj["state_dict"])
    _check_keys(path, model, state)
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    model.load_state_dict(state, strict=True)
    return model.eval()


def save_checkpoint(
    path: str | Path, model: nn.Module, kind: str, half: bool = False, **extra: Any
) -> Path:
    """Save ``model`` as ``{state_dict, kind, width, ...extra}``; ``half`` stores float16 weights."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        k: (v.detach().half() if half and v.is_floating_point() else v.detach()).clone()
        for k, v in model.state_dict().items()
    }
    payload = {"state_dict": state, "kind": kind, "width": float(getattr(model, "width", 1.0))}
    payload.update(extra)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)  # never leave a half-written checkpoint behind
    return path

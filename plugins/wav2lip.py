"""Wav2Lip as a talking-face method: the small embedded model and the official weights.

Also the training entry point: ``python -m plugins.wav2lip train`` fits the expert and then the
generator on the embedded talking-face dataset's train split, selecting on val.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

import numpy as np

import bench
from bench.errors import Unavailable
from bench.interfaces import SampleError
from bench.samples import Clip
from bench.specs import MethodSpec, WeightsSpec
from bench.weights_identity import weights_file
from plugins.talking_face_inputs import check_clip

PAPER = "Prajwal et al., A Lip Sync Expert Is All You Need for Speech to Lip Generation In the Wild, ACM MM 2020"
CHECKPOINT_DIR = Path(__file__).resolve().parent.parent / "reference_models" / "wav2lip" / "checkpoints"
EMBEDDED = CHECKPOINT_DIR / "wav2lip.pt"
UPSTREAM = "https://github.com/Rudrabha/Wav2Lip"
# name -> (file name, description); the README links are SharePoint pages, not stable file URLs.
OFFICIAL = {
    "wav2lip": ("wav2lip.pth", "Wav2Lip generator trained on LRS2 (README: 'Wav2Lip')"),
    "wav2lip-gan": ("wav2lip_gan.pth", "Wav2Lip generator with the visual-quality GAN (README: 'Wav2Lip + GAN')"),
    "lipsync-expert": ("lipsync_expert.pth", "Expert lip-sync discriminator SyncNet_color (README: 'Expert Discriminator')"),
}


EMBEDDED_WEIGHTS = "wav2lip-embedded"


def weights_specs() -> list[WeightsSpec]:
    """The official checkpoints (no stable URL or published sha256) and the embedded one."""
    specs = [
        WeightsSpec(
            name=name, url=UPSTREAM + "#getting-the-weights", sha256=None, size=None, filename=filename,
            license="non-commercial research use (Wav2Lip README)", description=description,
            loader="reference_models.wav2lip.checkpoint:read_state",
        )
        for name, (filename, description) in OFFICIAL.items()
    ]
    specs.append(WeightsSpec(
        name=EMBEDDED_WEIGHTS, url="", sha256=None, size=None, filename="wav2lip.pt",
        license="MIT", description="small Wav2Lip trained on the embedded talking-face train split",
        loader="reference_models.wav2lip.checkpoint:read_state",
        shipped_path="reference_models/wav2lip/checkpoints/wav2lip.pt",
    ))
    return specs


def official_weights_path(name: str) -> Path:
    """Where the official file ``name`` is expected (the torch hub checkpoint cache)."""
    spec = next((s for s in weights_specs() if s.name == name and name in OFFICIAL), None)
    if spec is None:
        raise ValueError(f"unknown official Wav2Lip weights {name!r}; expected one of {sorted(OFFICIAL)}")
    return weights_file(spec)


class Wav2LipMethod:
    """Wav2Lip inference on a :class:`bench.samples.Clip` with a given generator checkpoint."""

    def __init__(self, checkpoint: str | os.PathLike | None = None, batch_size: int = 32):
        from reference_models.wav2lip.checkpoint import load_checkpoint

        path = Path(checkpoint) if checkpoint else EMBEDDED
        self.checkpoint = path
        self.model = load_checkpoint(path, "wav2lip")
        self.batch_size = batch_size

    def generate(self, clip: Clip) -> np.ndarray:
        """Lip-synced frames (clip.n_output_frames, H, W, 3) uint8 for the clip's driving audio."""
        from reference_models.wav2lip.inference import lip_sync

        check_clip(clip)
        try:
            return lip_sync(
                self.model, clip.frames, np.asarray(clip.face_boxes), clip.audio, clip.n_output_frames,
                fps=clip.fps, sample_rate=clip.sample_rate, batch_size=self.batch_size,
            )
        except ValueError as exc:
            raise SampleError(f"clip {clip.id!r}: {exc}") from exc


def official_wav2lip(weights: str = "wav2lip", path: str | None = None, batch_size: int = 32) -> Wav2LipMethod:
    """Wav2Lip with the published weights; raises :class:`bench.errors.Unavailable` when absent."""
    file = Path(path) if path else official_weights_path(weights)
    if not file.is_file():
        raise Unavailable(
            f"official Wav2Lip weights {weights!r} ({OFFICIAL[weights][0]}) not found at {file}; "
            f"download them from the links in {UPSTREAM}#getting-the-weights",
            install=f"bench weights import {weights} /path/to/{OFFICIAL[weights][0]}",
        )
    return Wav2LipMethod(file, batch_size=batch_size)


@bench.hookimpl
def bench_register_methods(register) -> None:
    """Register the embedded small Wav2Lip and the official-weights Wav2Lip."""
    register(MethodSpec(
        name="wav2lip", task="talking-face", version="1.0", factory="plugins.wav2lip:Wav2LipMethod",
        description="Wav2Lip (width 1/8) trained here on the embedded talking-face train split",
        config={}, weights=(EMBEDDED_WEIGHTS,), reference=True, paper=PAPER,
    ))
    register(MethodSpec(
        name="wav2lip-official", task="talking-face", version="1.0", factory="plugins.wav2lip:official_wav2lip",
        description="Wav2Lip with the authors' LRS2 weights (wav2lip.pth); needs `bench weights import`",
        config={"weights": "wav2lip"}, weights=("wav2lip",), paper=PAPER,
    ))


@bench.hookimpl
def bench_register_weights(register) -> None:
    """Register the official Wav2Lip checkpoints and the embedded small generator."""
    for spec in weights_specs():
        register(spec)

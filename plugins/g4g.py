"""G4G (arXiv:2402.18122) as a bench talking-face method: registration, and the adapters from
the harness's clips and embedded dataset to the model (reference_models/g4g: inference, and the
command line in ``reference_models.g4g.cli``).

The model is a documented reconstruction (reference_models/g4g/MODEL_CARD.md). Train the shipped
embedded checkpoint with::

    python -m plugins.g4g train --config embedded --out runs/g4g-embedded \
        --export reference_models/g4g/checkpoints/g4g_embedded.pt
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import bench
from bench import devices
from bench.interfaces import SampleError
from bench.samples import SPEECH_SAMPLE_RATE, Clip
from bench.specs import FLOAT32_INFERENCE, GPU_IF_AVAILABLE, MethodSpec, WeightsSpec

CHECKPOINT_DIR = Path(__file__).resolve().parents[1] / "reference_models" / "g4g" / "checkpoints"
EMBEDDED_CHECKPOINT = "g4g_embedded.pt"
# sha256 and size of the shipped embedded checkpoint (tests/test_g4g.py checks the file)
EMBEDDED_SHA256 = "9f1f32d6e0eddab57b083463c019549e8a0c796fbb53e8867bbd065c2d1a68be"
EMBEDDED_SIZE = 4594838

PROVENANCE = {
    "diagonal_matrix_alignment": "abstract",
    "multi_scale_supervision": "abstract",
    "fusion_network": "abstract",
    "intra_modal_adain": "secondary summary (may be wrong)",
    "mask_guided_spatial_transform": "secondary summary (may be wrong); AdaAT from DINet",
    "losses_sizes_schedule": "reconstruction, not stated in the paper",
}

METHOD_CONFIG: dict[str, Any] = {
    "checkpoint": EMBEDDED_CHECKPOINT,
    "config": "embedded",
    "reconstruction": True,
    "align_loss": "infonce",
    "tau": 0.07,
    "mask_scales": ["face", "lower", "mouth"],
    "fusion": "unet",
    "perceptual": "random",
    "reference_select": "aligner",
    "steady_boxes": True,
    "batch_size": 32,
}


@bench.hookimpl
def bench_register_methods(register) -> None:  # type: ignore[no-untyped-def]
    """Register the G4G reconstruction as the reference talking-face method ``g4g``."""
    register(MethodSpec(
        name="g4g",
        task="talking-face",
        version="0.1.0",
        factory="plugins.g4g:G4GMethod",
        description="G4G talking-face generation, documented reconstruction (96-px faces): "
                    "diagonal-matrix audio-visual alignment, AdaIN intra-modal alignment, "
                    "mask-guided AdaAT warps, multi-scale supervision, fusion U-Net",
        config=dict(METHOD_CONFIG, provenance=PROVENANCE),
        weights=("g4g-embedded",),
        reference=True,
        tolerance={"*": FLOAT32_INFERENCE},
        paper="arXiv:2402.18122",
        trainer="plugins.g4g:train_command",
        resources=GPU_IF_AVAILABLE,
    ))


@bench.hookimpl
def bench_register_weights(register) -> None:  # type: ignore[no-untyped-def]
    """Register the shipped embedded checkpoint (trained here, no download)."""
    register(WeightsSpec(
        name="g4g-embedded",
        url="",
        sha256=EMBEDDED_SHA256,
        size=EMBEDDED_SIZE,
        filename=EMBEDDED_CHECKPOINT,
        license="MIT",
        description="G4G reconstruction trained on the embedded synthetic talking faces",
        shipped_path=f"reference_models/g4g/checkpoints/{EMBEDDED_CHECKPOINT}",
        trainer="plugins.g4g:train_command",
    ))


def resolve_checkpoint(checkpoint: str | Path) -> Path:
    """A path as given if it exists, else the name inside the shipped checkpoints folder."""
    path = Path(checkpoint)
    if path.is_file():
        return path
    shipped = CHECKPOINT_DIR / path.name
    if shipped.is_file():
        return shipped
    raise FileNotFoundError(f"G4G checkpoint not found: {checkpoint} (looked in {CHECKPOINT_DIR})")


class G4GMethod:
    """``generate(clip)`` for the talking-face task, backed by a trained G4G checkpoint."""

    def __init__(self, checkpoint: str | Path = EMBEDDED_CHECKPOINT, batch_size: int = 32,
                 **expected: Any) -> None:
        from reference_models.g4g.inference import G4GInference

        self.checkpoint = resolve_checkpoint(checkpoint)
        self.inference = G4GInference.from_weights(self.checkpoint, batch_size)
        self._check_config(expected)

    def _check_config(self, expected: dict[str, Any]) -> None:
        """Config keys from the MethodSpec must agree with what the checkpoint was trained with."""
        cfg = self.inference.cfg.to_dict()
        for key, value in expected.items():
            if key in ("reconstruction", "provenance"):
                continue
            name = "name" if key == "config" else key
            if name not in cfg:
                raise ValueError(f"G4G: unknown config key {key!r}")
            have = cfg[name]
            if (list(have) if isinstance(have, (list, tuple)) else have) != \
                    (list(value) if isinstance(value, (list, tuple)) else value):
                raise ValueError(f"G4G: {self.checkpoint} was trained with {name}={have!r}, "
                                 f"config asks for {value!r}")

    def generate(self, clip: Clip) -> np.ndarray:
        """Lip-synced uint8 RGB frames (clip.n_output_frames, H, W, 3)."""
        try:  # on the task's device: CPU unless a cluster task was given a GPU
            return self.inference.to(devices.current()).generate(
                clip.frames, clip.face_boxes, clip.audio, clip.n_output_frames,
                sample_rate=clip.sample_rate, fps=clip.fps)
        except ValueError as exc:
            raise SampleError(f"clip {clip.id!r}: {exc}") from exc


# -- training from the embedded dataset --------------------------------------------------------

def clip_arrays(clip: Clip):  # type: ignore[no-untyped-def]
    """A dataset Clip -> the arrays the reference model trains on (its own frames and audio)."""
    from reference_models.g4g.data import VideoArrays

    frames = clip.target if clip.target is not None else clip.frames
    if clip.sample_rate != SPEECH_SAMPLE_RATE:
        raise ValueError(f"clip {clip.id!r}: training needs 16 kHz audio, got {clip.sample_rate}")
    return VideoArrays(clip.id, np.asarray(frames), np.asarray(clip.face_boxes, np.float32),
                       np.asarray(clip.audio, np.float32), identity=clip.identity)


def load_split(split: str, max_clips: int | None = None, **options: Any) -> list:
    """Arrays of the embedded talking-face dataset's ``split`` (first ``max_clips`` ids)."""
    from bench.datasets.talking_face.embedded import load_embedded_talking_faces

    ds = load_embedded_talking_faces(**options).split(split)
    ids = list(ds.ids)[:max_clips] if max_clips else list(ds.ids)
    return [clip_arrays(ds.get(i)) for i in ids]


def evaluate(checkpoint: str | Path, split: str = "val", max_clips: int | None = None,
             expert: str | Path | None = None) -> dict[str, float]:
    """Validation checks of a checkpoint on the embedded data, for model selection
    (:func:`reference_models.g4g.evaluation.evaluate_clips`); sync as the aligner of ``expert``
    (default: the checkpoint's own aligner) sees it."""
    from bench.datasets.talking_face.embedded import load_embedded_talking_faces
    from reference_models.g4g.evaluation import evaluate_clips
    from reference_models.g4g.model import load_weights

    method = G4GMethod(checkpoint)
    aligner = (load_weights(resolve_checkpoint(expert))[0] if expert else
               method.inference.model).aligner.eval()
    ds = load_embedded_talking_faces().split(split)
    return evaluate_clips(method.generate, aligner, (ds.get(i) for i in list(ds.ids)[:max_clips]))


def train_command(argv: Sequence[str] | None = None) -> None:
    """``bench train g4g -- ARGS``: the ``train`` subcommand below (``--out`` is required)."""
    main(["train", *(argv or [])])


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m plugins.g4g train|eval ...`` (:mod:`reference_models.g4g.cli`): train on the
    embedded TRAIN split, select on VAL."""
    from reference_models.g4g.cli import main as cli_main

    cli_main(argv, load_split, evaluate, default_checkpoint=EMBEDDED_CHECKPOINT)


if __name__ == "__main__":
    main()

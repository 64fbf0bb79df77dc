"""Wav2Lip as a talking-face method: the small embedded model and the official weights.

Also the training entry point: ``python -m plugins.wav2lip train`` fits the expert and then the
generator on the embedded talking-face dataset's train split, selecting on val (the command is
``reference_models.wav2lip.cli``; this module feeds it the dataset's face videos).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

import bench
from bench import devices
from bench.errors import Unavailable
from bench.interfaces import SampleError
from bench.samples import Clip, check_clip
from bench.specs import FLOAT32_INFERENCE, GPU_IF_AVAILABLE, MethodSpec, WeightsSpec

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
    # No url: the README links are share pages, not files, so there is nothing `fetch` could
    # download and check; users import the file they downloaded. No loader either: the files
    # are training checkpoints ({state_dict, optimizer, ...}), read by
    # reference_models.wav2lip.checkpoint.load_checkpoint, not plain state dicts.
    specs = [
        WeightsSpec(
            name=name, url="", sha256=None, size=None, filename=filename,
            license="non-commercial research use (Wav2Lip README)",
            description=f"{description}; download from {UPSTREAM}#getting-the-weights",
        )
        for name, (filename, description) in OFFICIAL.items()
    ]
    specs.append(WeightsSpec(
        name=EMBEDDED_WEIGHTS, url="", sha256=None, size=None, filename="wav2lip.pt",
        license="MIT", description="small Wav2Lip trained on the embedded talking-face train split",
        shipped_path="reference_models/wav2lip/checkpoints/wav2lip.pt",
    ))
    return specs


def official_weights_path(name: str) -> Path:
    """Where the official file ``name`` is expected (the torch hub checkpoint cache)."""
    spec = next((s for s in weights_specs() if s.name == name and name in OFFICIAL), None)
    if spec is None:
        raise ValueError(f"unknown official Wav2Lip weights {name!r}; expected one of {sorted(OFFICIAL)}")
    from bench.weights.registry import weights_path

    return weights_path(spec)


class Wav2LipMethod:
    """Wav2Lip inference on a :class:`bench.samples.Clip` with a given generator checkpoint.

    ``audio_offset``, ``steady_boxes``: see :func:`reference_models.wav2lip.inference.lip_sync`
    (-1: the pairing of frames and mel windows the generator was trained with; ``steady``)."""

    def __init__(self, checkpoint: str | os.PathLike | None = None, batch_size: int = 32,
                 audio_offset: int = -1, steady_boxes: bool = False):
        from reference_models.wav2lip.checkpoint import load_checkpoint

        path = Path(checkpoint) if checkpoint else EMBEDDED
        self.checkpoint = path
        self.model = load_checkpoint(path, "wav2lip")
        self.batch_size = batch_size
        self.audio_offset = int(audio_offset)
        self.steady_boxes = bool(steady_boxes)

    def generate(self, clip: Clip) -> np.ndarray:
        """Lip-synced frames (clip.n_output_frames, H, W, 3) uint8 for the clip's driving audio."""
        from reference_models.wav2lip.inference import lip_sync

        check_clip(clip)
        self.model.to(devices.current())  # CPU unless a cluster task was given a GPU
        try:
            return lip_sync(
                self.model, clip.frames, np.asarray(clip.face_boxes), clip.audio, clip.n_output_frames,
                fps=clip.fps, sample_rate=clip.sample_rate, batch_size=self.batch_size,
                audio_offset=self.audio_offset, steady=self.steady_boxes,
            )
        except ValueError as exc:
            raise SampleError(f"clip {clip.id!r}: {exc}") from exc


def official_wav2lip(weights: str = "wav2lip", path: str | None = None, batch_size: int = 32,
                     audio_offset: int = 0) -> Wav2LipMethod:
    """Wav2Lip with the published weights; raises :class:`bench.errors.Unavailable` when absent.

    ``audio_offset`` 0 pairs frames and mel windows as the authors' ``inference.py`` does, so
    their published numbers can be checked."""
    file = Path(path) if path else official_weights_path(weights)
    if not file.is_file():
        raise Unavailable(
            f"official Wav2Lip weights {weights!r} ({OFFICIAL[weights][0]}) not found at {file}; "
            f"download them from the links in {UPSTREAM}#getting-the-weights",
            install=f"bench weights import {weights} /path/to/{OFFICIAL[weights][0]}",
        )
    return Wav2LipMethod(file, batch_size=batch_size, audio_offset=audio_offset)


@bench.hookimpl
def bench_register_methods(register) -> None:
    """Register the embedded small Wav2Lip and the official-weights Wav2Lip."""
    register(MethodSpec(
        name="wav2lip", task="talking-face", version="2.2", factory="plugins.wav2lip:Wav2LipMethod",
        description="Wav2Lip (generator width 1/4, expert 1/8) trained here on the embedded "
                    "talking-face train split",
        config={"audio_offset": -1}, weights=(EMBEDDED_WEIGHTS,), reference=True, paper=PAPER,
        tolerance={"*": FLOAT32_INFERENCE}, trainer="plugins.wav2lip:train_command",
        resources=GPU_IF_AVAILABLE,
    ))
    register(MethodSpec(
        name="wav2lip-official", task="talking-face", version="1.0", factory="plugins.wav2lip:official_wav2lip",
        description="Wav2Lip with the authors' LRS2 weights (wav2lip.pth); needs `bench weights import`",
        config={"weights": "wav2lip", "audio_offset": 0}, weights=("wav2lip",), paper=PAPER,
        resources=GPU_IF_AVAILABLE,
    ))


@bench.hookimpl
def bench_register_weights(register) -> None:
    """Register the official Wav2Lip checkpoints and the embedded small generator."""
    for spec in weights_specs():
        register(spec)


# --- training on a talking-face dataset --------------------------------------------------

def clip_to_video(clip: Clip, steady: bool = False):
    """A :class:`reference_models.wav2lip.data.FaceVideo` from a clip: 96x96 face crops + mel
    (``steady``: of :func:`reference_models.wav2lip.faces.steady_boxes`)."""
    from reference_models.wav2lip.audio import melspectrogram
    from reference_models.wav2lip.data import FaceVideo
    from reference_models.wav2lip.faces import steady_boxes
    from reference_models.wav2lip.inference import crop_faces, prepare_audio

    check_clip(clip)
    # Under reconstruction the target is the video the audio belongs to; train on that.
    frames = clip.target if clip.target is not None else clip.frames
    mel = melspectrogram(prepare_audio(clip.audio, clip.sample_rate))
    boxes = np.asarray(clip.face_boxes)
    if steady:
        boxes = steady_boxes(boxes, frames.shape[1])
    return FaceVideo(crop_faces(frames, boxes), mel, fps=clip.fps, name=clip.id)


def load_videos(split: Any, limit: int | None = None, progress: bool = True,
                steady: bool = False) -> list:
    """Face videos of the first ``limit`` samples of a split (all when None); bad samples are skipped
    with a warning that names them."""
    from tqdm import tqdm

    ids = list(split.ids)[:limit] if limit else list(split.ids)
    videos = []
    for sample_id in tqdm(ids, desc=f"load {split.name}", disable=not progress):
        try:
            videos.append(clip_to_video(split.get(sample_id), steady))
        except SampleError as exc:
            print(f"warning: skipping {sample_id}: {exc}")
    return videos


def load_embedded(train_clips: int | None = None,
                  steady: bool = False) -> tuple[list, list, dict[str, Any]]:
    """The embedded talking-face dataset's train (first ``train_clips``) and val face videos,
    and what ``training.json`` records of the dataset (``steady``: steady-box crops)."""
    from bench.datasets.talking_face.embedded import load_embedded_talking_faces

    dataset = load_embedded_talking_faces()
    info = {"name": dataset.name, "version": dataset.version,
            "train_manifest": dataset.split("train").manifest_hash,
            "val_manifest": dataset.split("val").manifest_hash, "steady_boxes": steady}
    return (load_videos(dataset.split("train"), train_clips, steady=steady),
            load_videos(dataset.split("val"), steady=steady), info)


def train_command(argv: Iterable[str] | None = None) -> None:
    """``python -m plugins.wav2lip train`` (:mod:`reference_models.wav2lip.cli`): expert then
    generator on the embedded dataset."""
    from reference_models.wav2lip.cli import train_command as cli_train

    cli_train(argv, load_embedded)


if __name__ == "__main__":
    import sys

    if len(sys.argv) < 2 or sys.argv[1] != "train":
        sys.exit("usage: python -m plugins.wav2lip train [OPTIONS]  (--help for options)")
    train_command(sys.argv[2:])

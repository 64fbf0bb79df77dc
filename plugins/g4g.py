"""G4G (arXiv:2402.18122) as a bench talking-face method: registration, inference, training.

The model is a documented reconstruction (reference_models/g4g/MODEL_CARD.md). Train the shipped
embedded checkpoint with::

    python -m plugins.g4g train --config embedded --out runs/g4g-embedded \
        --export reference_models/g4g/checkpoints/g4g_embedded.pt
"""

from __future__ import annotations

import argparse
import json
import shutil
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
EMBEDDED_SHA256 = "8a56d18265a8542c60924ba823187f046d6466fbaa3140f7496d9cdb31765841"
EMBEDDED_SIZE = 4594582

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
        where = f"clip {clip.id!r}"
        fps = float(clip.fps)
        if abs(fps - self.inference.cfg.fps) > 1e-3:
            raise SampleError(f"{where}: G4G uses Wav2Lip timing at {self.inference.cfg.fps:g} "
                              f"fps; got {fps:g} fps (resample the video first)")
        audio = np.asarray(clip.audio, dtype=np.float32)
        if audio.ndim != 1:
            raise SampleError(f"{where}: audio must be mono, got shape {audio.shape}")
        if clip.sample_rate != SPEECH_SAMPLE_RATE:
            import librosa

            audio = librosa.resample(audio, orig_sr=clip.sample_rate,
                                     target_sr=SPEECH_SAMPLE_RATE).astype(np.float32)
        n_out = clip.n_output_frames
        if n_out < 1:
            raise SampleError(f"{where}: audio ({len(clip.audio)} samples) is shorter than one "
                              "video frame")
        if len(clip.frames) == 0:
            raise SampleError(f"{where}: identity video has no frames")
        try:  # on the task's device: CPU unless a cluster task was given a GPU
            return self.inference.to(devices.current()).generate(clip.frames, clip.face_boxes,
                                                                  audio, n_out)
        except ValueError as exc:
            raise SampleError(f"{where}: {exc}") from exc


# -- training from the embedded dataset --------------------------------------------------------

def clip_arrays(clip: Clip):  # type: ignore[no-untyped-def]
    """A dataset Clip -> the arrays the reference model trains on (its own frames and audio)."""
    from reference_models.g4g.data import VideoArrays

    frames = clip.target if clip.target is not None else clip.frames
    if clip.sample_rate != SPEECH_SAMPLE_RATE:
        raise ValueError(f"clip {clip.id!r}: training needs 16 kHz audio, got {clip.sample_rate}")
    return VideoArrays(clip.id, np.asarray(frames), np.asarray(clip.face_boxes, np.float32),
                       np.asarray(clip.audio, np.float32))


def load_split(split: str, max_clips: int | None = None, **options: Any) -> list:
    """Arrays of the embedded talking-face dataset's ``split`` (first ``max_clips`` ids)."""
    from bench.datasets.talking_face.embedded import load_embedded_talking_faces

    ds = load_embedded_talking_faces(**options).split(split)
    ids = list(ds.ids)[:max_clips] if max_clips else list(ds.ids)
    return [clip_arrays(ds.get(i)) for i in ids]


def _mouth_psnr(out: np.ndarray, target: np.ndarray, boxes: np.ndarray) -> float:
    """PSNR (dB) over the lower halves of the face boxes, where the method generates."""
    err, n = 0.0, 0
    for o, t, (x0, y0, x1, y1) in zip(out, target, np.round(boxes).astype(int)):
        ym = (y0 + y1) // 2
        d = o[ym:y1, x0:x1].astype(np.float64) - t[ym:y1, x0:x1].astype(np.float64)
        err += float((d ** 2).sum())
        n += d.size
    return float(10 * np.log10(255.0 ** 2 / max(err / max(n, 1), 1e-10)))


def aligner_sync(aligner: Any, frames: np.ndarray, boxes: np.ndarray, audio: np.ndarray,
                 max_offset: int = 6) -> tuple[float, bool] | None:
    """Sync of a video in the eyes of a G4G aligner (the TRAINING expert, not the evaluation
    SyncNet): (confidence, offset hit). Confidence = mean cosine at offset 0 minus the median
    over offsets -D..D, averaged over windows first; hit = offset 0 is the best offset."""
    from reference_models.g4g.alignment import offset_similarities
    from reference_models.g4g.data import TalkingFaceArrays, VideoArrays

    data = TalkingFaceArrays([VideoArrays("v", frames, boxes, audio)], aligner.cfg)
    sims = offset_similarities(aligner, *data.clip_windows(0), max_offset)
    if not len(sims):
        return None
    mean = sims.mean(0)
    return float(mean[max_offset] - mean.median()), bool(mean.argmax() == max_offset)


def evaluate(checkpoint: str | Path, split: str = "val", max_clips: int | None = None,
             expert: str | Path | None = None) -> dict[str, float]:
    """Validation check of a checkpoint on the embedded data, for model selection: mouth-region
    PSNR of G4G and of the "reference frame" baseline (the frame half the video away, i.e. the
    model's own reference), and sync of G4G, the reference frames and the ground truth as the
    aligner of ``expert`` (default: the checkpoint's own aligner) sees it."""
    from bench.datasets.talking_face.embedded import load_embedded_talking_faces
    from reference_models.g4g.inference import reference_indices
    from reference_models.g4g.model import load_weights

    method = G4GMethod(checkpoint)
    aligner = (load_weights(resolve_checkpoint(expert))[0] if expert else
               method.inference.model).aligner.eval()
    ds = load_embedded_talking_faces().split(split)
    rows: dict[str, list[float]] = {}
    for cid in list(ds.ids)[:max_clips]:
        clip = ds.get(cid)
        n = clip.n_output_frames
        target, boxes = clip.target[:n], clip.face_boxes[:n]
        r = reference_indices(len(clip.frames), np.arange(n))
        videos = {"g4g": method.generate(clip), "reference_frame": clip.frames[r],
                  "ground_truth": target}
        for name, frames in videos.items():
            if name != "ground_truth":
                rows.setdefault(f"{name}_mouth_psnr_db", []).append(
                    _mouth_psnr(frames, target, boxes))
            got = aligner_sync(aligner, frames, boxes, clip.audio)
            if got is not None:
                rows.setdefault(f"{name}_sync_conf", []).append(got[0])
                rows.setdefault(f"{name}_offset_hit", []).append(float(got[1]))
    out: dict[str, float] = {"clips": len(rows["g4g_mouth_psnr_db"])}
    out.update({k: float(np.mean(v)) for k, v in rows.items()})
    return out


def train_command(argv: Sequence[str] | None = None) -> None:
    """``bench train g4g -- ARGS``: the ``train`` subcommand below (``--out`` is required)."""
    main(["train", *(argv or [])])


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m plugins.g4g train ...``: train on the embedded TRAIN split, select on VAL."""
    from reference_models.g4g.configs import get_config
    from reference_models.g4g.train import train

    ap = argparse.ArgumentParser(prog="python -m plugins.g4g")
    sub = ap.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("train", help="train G4G on the embedded talking-face dataset")
    tr.add_argument("--config", default="embedded")
    tr.add_argument("--out", type=Path, required=True)
    tr.add_argument("--max-train-clips", type=int, default=None)
    tr.add_argument("--max-val-clips", type=int, default=None,
                    help="validate on the first N val clips (default: all)")
    tr.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                    help="override one config value, e.g. --set w_mouth=8 --set gen_batch=6")
    tr.add_argument("--align-steps", type=int, default=None)
    tr.add_argument("--gen-steps", type=int, default=None)
    tr.add_argument("--export", type=Path, default=None,
                    help="copy the selected weights here")
    tr.add_argument("--resume", action="store_true",
                    help="continue from <out>/last.pt (the default; kept for clarity)")
    tr.add_argument("--no-resume", action="store_true")
    tr.add_argument("--init-from", type=Path, default=None, metavar="LAST_PT",
                    help="start stage 2 from the selected aligner of another run's last.pt")
    tr.add_argument("--init-generator", action="store_true",
                    help="with --init-from: also start from that run's selected generator")
    ev = sub.add_parser("eval", help="mouth-region PSNR of a checkpoint vs its reference frames")
    ev.add_argument("--checkpoint", default=EMBEDDED_CHECKPOINT)
    ev.add_argument("--split", default="val")
    ev.add_argument("--max-clips", type=int, default=None)
    ev.add_argument("--expert", default=None,
                    help="weights file whose aligner scores sync (default: the checkpoint's)")
    args = ap.parse_args(argv)
    if args.command == "eval":
        print(json.dumps(evaluate(args.checkpoint, args.split, args.max_clips,
                                         args.expert), indent=1))
        return
    overrides: dict[str, Any] = {k: v for k, v in (("align_steps", args.align_steps),
                                                   ("gen_steps", args.gen_steps)) if v is not None}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            ap.error(f"--set needs KEY=VALUE, got {item!r}")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    for key in ("mask_scales", "loss_scales"):
        if isinstance(overrides.get(key), list):
            overrides[key] = tuple(overrides[key])
    cfg = get_config(args.config, **overrides)
    weights = train(cfg, load_split("train", args.max_train_clips),
                    load_split("val", args.max_val_clips), args.out, resume=not args.no_resume,
                    snapshots=True, init_from=args.init_from, init_generator=args.init_generator)
    if args.export:
        args.export.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(weights, args.export)
        print(f"exported {args.export}")
    print(weights)


if __name__ == "__main__":
    main()

"""The Wav2Lip training command: the lip-sync expert, then the generator, selecting on val.

Where the face videos come from is the caller's: :func:`train_command` takes a
``load_data(train_clips)`` returning ``(train_videos, val_videos, dataset_info)`` (lists of
:class:`reference_models.wav2lip.data.FaceVideo` and a JSON-able description written to
``training.json``); the built-in plugin passes the embedded talking-face dataset's
(``python -m plugins.wav2lip train ...``, ``bench train wav2lip -- ...``). With
``--steady-boxes`` it is called as ``load_data(train_clips, steady=True)`` and must crop the faces
with :func:`reference_models.wav2lip.faces.steady_boxes`.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"

LoadData = Callable[..., "tuple[list, list, dict[str, Any]]"]


def train_command(argv: Iterable[str] | None, load_data: LoadData,
                  prog: str = "python -m plugins.wav2lip train") -> None:
    """Parse ``argv`` (``sys.argv[2:]`` when None) and train; writes ``<out>/training.json``."""

    @click.command("train")
    @click.option("--out", type=click.Path(file_okay=False), default=str(CHECKPOINT_DIR),
                  show_default=True)
    @click.option("--width", type=float, default=0.125, show_default=True)
    @click.option("--expert-steps", type=int, default=500, show_default=True)
    @click.option("--gen-steps", type=int, default=400, show_default=True)
    @click.option("--batch", type=int, default=8, show_default=True, help="expert batch size")
    @click.option("--gen-batch", type=int, default=4, show_default=True,
                  help="generator batch (x5 frames)")
    @click.option("--lr", type=float, default=1e-4, show_default=True)
    @click.option("--eval-every", type=int, default=50, show_default=True)
    @click.option("--eval-batches", type=int, default=4, show_default=True,
                  help="fixed val batches per evaluation")
    @click.option("--threads", type=int, default=1, show_default=True,
                  help="torch threads (the weights depend on it in the last bits)")
    @click.option("--train-clips", type=int, default=None, help="use only the first N train clips")
    @click.option("--expert-loss", type=click.Choice(["bce", "offsets"]), default="bce",
                  show_default=True, help="bce: the reference's; offsets: softmax over audio "
                  "windows shifted -D..D frames and the batch's other windows")
    @click.option("--max-shift", type=int, default=6, show_default=True,
                  help="D for --expert-loss offsets")
    @click.option("--sync-wt", type=float, default=None,
                  help="generator sync weight once on [default: 0.01, 0.03 with --gan]")
    @click.option("--sync-threshold", type=float, default=0.75, show_default=True,
                  help="the sync term switches on once the val sync loss is below this")
    @click.option("--init-generator", type=click.Path(dir_okay=False, exists=True), default=None,
                  help="start the generator from these weights (e.g. an L1-only run's)")
    @click.option("--audio-from-expert", is_flag=True, default=False,
                  help="start the generator's audio encoder from the expert's (same width)")
    @click.option("--w-mouth", type=float, default=0.0, show_default=True,
                  help="L1 weight 1 + W inside the mouth region (0: the reference's plain L1)")
    @click.option("--snapshot-every", type=click.IntRange(min=0), default=0, show_default=True,
                  help="keep the generator every N steps in OUT/snapshots (float16; 0: never)")
    @click.option("--steady-boxes", is_flag=True, default=False,
                  help="crop faces with one box aspect ratio per clip (load_data(..., steady=True))")
    @click.option("--gan/--no-gan", default=False, show_default=True)
    @click.option("--seed", type=int, default=0, show_default=True)
    def cli(out, width, expert_steps, gen_steps, batch, gen_batch, lr, eval_every, eval_batches,
            threads, train_clips,
            expert_loss, max_shift, sync_wt, sync_threshold, init_generator, audio_from_expert,
            w_mouth, snapshot_every, steady_boxes, gan, seed):
        from reference_models.wav2lip.data import WindowSampler
        from reference_models.wav2lip.train import (
            TrainConfig,
            timed,
            train_expert,
            train_generator,
        )

        if audio_from_expert and init_generator:
            raise click.UsageError("--audio-from-expert starts a fresh generator; "
                                   "--init-generator already has an audio encoder")
        out_dir = Path(out)
        train_videos, val_videos, info = (load_data(train_clips, steady=True) if steady_boxes
                                          else load_data(train_clips))
        train, val = WindowSampler(train_videos), WindowSampler(val_videos)
        common = {"width": width, "lr": lr, "eval_every": eval_every,
                  "eval_batches": eval_batches, "threads": threads, "seed": seed}
        expert_cfg = TrainConfig(steps=expert_steps, batch=batch, expert_loss=expert_loss,
                                 max_shift=max_shift, **common)
        if expert_steps > 0:
            expert = timed(train_expert, train, val, out_dir, expert_cfg)
        elif (out_dir / "expert.pt").exists():  # --expert-steps 0: the expert already there
            expert = {"checkpoint": str(out_dir / "expert.pt"), "steps": 0, "trained": False}
        else:
            raise click.UsageError(f"--expert-steps 0 needs an expert at {out_dir / 'expert.pt'}")
        gen_cfg = TrainConfig(steps=gen_steps, batch=gen_batch, gan=gan,
                              sync_wt=sync_wt if sync_wt is not None else 0.03 if gan else 0.01,
                              sync_threshold=sync_threshold,
                              audio_from_expert=audio_from_expert, w_mouth=w_mouth,
                              snapshot_every=snapshot_every, **common)
        gen = None  # --gen-steps 0: the expert alone
        if gen_steps > 0:
            gen = timed(train_generator, train, val, out_dir / "expert.pt", out_dir, gen_cfg,
                        init=Path(init_generator) if init_generator else None)
        args = sys.argv[2:] if argv is None else list(argv)
        summary = {
            "command": f"{prog} {shlex.join(args)}",
            "dataset": {**info, "train_videos": len(train.videos), "val_videos": len(val.videos)},
            "expert": expert, "generator": gen,
        }
        (out_dir / "training.json").write_text(json.dumps(summary, indent=1) + "\n")
        click.echo(json.dumps(summary, indent=1))

    cli.main(args=list(argv) if argv is not None else None, standalone_mode=True)

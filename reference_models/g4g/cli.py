"""The G4G command line: ``train`` (stage 1 aligner, stage 2 generator; select on val) and
``eval`` (validation checks of a checkpoint).

Where the clips come from is the caller's: ``main`` takes a ``load_split(split, max_clips)``
returning :class:`reference_models.g4g.data.VideoArrays` and an ``evaluate(checkpoint, split,
max_clips, expert)``; the built-in plugin passes the embedded talking-face dataset's
(``python -m plugins.g4g train ...``, ``bench train g4g -- ...``).
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

LoadSplit = Callable[[str, "int | None"], list]
Evaluate = Callable[[str, str, "int | None", "str | None"], dict]


def build_parser(prog: str, default_checkpoint: str) -> argparse.ArgumentParser:
    """The ``train`` and ``eval`` subcommands."""
    ap = argparse.ArgumentParser(prog=prog)
    sub = ap.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("train", help="train G4G on the train split, selecting on val")
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
                    help="start stage 2 from the selected aligner of another run's last.pt "
                         "(or of a weights file, such as the shipped checkpoint)")
    tr.add_argument("--init-generator", action="store_true",
                    help="with --init-from: also start from that run's selected generator")
    tr.add_argument("--init-discriminator", type=Path, default=None, metavar="LAST_PT",
                    help="with --init-from: start the lower-face critic from another run's "
                         "last.pt")
    ev = sub.add_parser("eval", help="mouth-region PSNR of a checkpoint vs its reference frames")
    ev.add_argument("--checkpoint", default=default_checkpoint)
    ev.add_argument("--split", default="val")
    ev.add_argument("--max-clips", type=int, default=None)
    ev.add_argument("--expert", default=None,
                    help="weights file whose aligner scores sync (default: the checkpoint's)")
    return ap


def config_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """``--align-steps``, ``--gen-steps`` and each ``--set KEY=JSON`` (a bare string when the
    value is not JSON) as config overrides; ValueError on an item without ``=``."""
    overrides: dict[str, Any] = {k: v for k, v in (("align_steps", args.align_steps),
                                                   ("gen_steps", args.gen_steps)) if v is not None}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set needs KEY=VALUE, got {item!r}")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    for key in ("mask_scales", "loss_scales"):
        if isinstance(overrides.get(key), list):
            overrides[key] = tuple(overrides[key])
    return overrides


def main(argv: Sequence[str] | None, load_split: LoadSplit, evaluate: Evaluate,
         prog: str = "python -m plugins.g4g", default_checkpoint: str = "g4g_embedded.pt") -> None:
    """Parse ``argv`` and train or evaluate."""
    from reference_models.g4g.configs import get_config
    from reference_models.g4g.train import train

    ap = build_parser(prog, default_checkpoint)
    args = ap.parse_args(argv)
    if args.command == "eval":
        print(json.dumps(evaluate(args.checkpoint, args.split, args.max_clips, args.expert),
                         indent=1))
        return
    try:
        overrides = config_overrides(args)
    except ValueError as exc:
        ap.error(str(exc))
    if args.init_discriminator is not None and args.init_from is None:
        ap.error("--init-discriminator needs --init-from")
    cfg = get_config(args.config, **overrides)
    weights = train(cfg, load_split("train", args.max_train_clips),
                    load_split("val", args.max_val_clips), args.out, resume=not args.no_resume,
                    snapshots=True, init_from=args.init_from, init_generator=args.init_generator,
                    init_discriminator=args.init_discriminator)
    if args.export:
        args.export.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(weights, args.export)
        print(f"exported {args.export}")
    print(weights)

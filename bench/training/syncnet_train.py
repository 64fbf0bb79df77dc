"""Train a small SyncNet for the embedded talking-face track.

``python -m bench.training.syncnet_train --out DIR`` trains on clips of the embedded talking-face
dataset's train split (``--source synthetic``: rendered train identities with phone-driven
audio instead) and writes ``DIR/syncnet_embedded.pt`` ({"state_dict", "width", "meta"}),
``train_log.csv``, ``loss.png`` and ``calibration.json`` (held-out check on the test split).

Loss: for one 5-frame lip window the candidates are the audio windows of the same clip at
offsets -D..D frames plus synced windows of other clips; logits are the negative embedding
distances times a learned scale, and the target is offset 0. This trains what LSE reads (the
argmin over offsets of the distance). The two full-resolution lip layers keep their seeded
random initialisation (batch-norm statistics calibrated on the data) so that their outputs are
computed once; everything else is trained. This keeps training to CPU minutes.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from bench.metrics.lse import audio_embeddings, lip_embeddings, score_embeddings
from bench.metrics.mfcc import mfcc
from bench.metrics.syncnet import SyncNet
from bench.training.syncnet_data import TrainClip, embedded_clips, make_clip, train_identity_ids
from bench.metrics.syncnet_infer import FrozenSyncNet

__all__ = ["calibrate", "main", "to_sync_frames", "train"]


def to_sync_frames(frames_rgb: np.ndarray) -> np.ndarray:
    """RGB frames (T,H,W,3) -> uint8 BGR 224×224, the whole-frame protocol's input."""
    return np.stack([cv2.resize(f[..., ::-1], (224, 224), interpolation=cv2.INTER_LINEAR)
                     for f in frames_rgb])


FRONT = 8  # netcnnlip[:8]: conv1, bn, relu, pool, conv2, bn, relu, pool (full-resolution layers)


class _Windows:
    """Per-clip MFCC (13 × 4T-1) and lip-front features of every 5-frame window."""

    def __init__(self, clips: Sequence[TrainClip], model: SyncNet, batch: int = 32) -> None:
        self.clips = clips
        self.mfcc = [torch.from_numpy(mfcc(c.audio).T.astype(np.float32)) for c in clips]
        front = model.netcnnlip[:FRONT]
        _calibrate_bn(front, [self.frames(c, v) for c, k in enumerate(clips) for v in range(0, len(k.frames) - 5, 40)])
        self.front = []
        with torch.inference_mode():
            for c, clip in enumerate(clips):
                n_win = len(clip.frames) - 4
                feats = [front(self.frames(c, v, min(batch, n_win - v))) for v in range(0, n_win, batch)]
                self.front.append(torch.cat(feats).to(torch.float16))  # (windows, C, 1, 13, 13)

    def frames(self, c: int, v: int, n: int = 1) -> torch.Tensor:
        """(n,3,5,224,224) BGR windows v..v+n-1 of clip c."""
        f = torch.from_numpy(to_sync_frames(self.clips[c].frames[v:v + n + 4])).float()
        return f.unfold(0, 5, 1).permute(0, 3, 4, 1, 2)

    def lip(self, picks: list[tuple[int, int]]) -> torch.Tensor:
        return torch.stack([self.front[c][v] for c, v in picks]).float()

    def aud(self, c: int, v: int) -> torch.Tensor:
        return self.mfcc[c][:, 4 * v:4 * v + 20]


def _calibrate_bn(front: torch.nn.Sequential, windows: list[torch.Tensor]) -> None:
    """Set the frozen front's batch-norm statistics to their averages over training windows."""
    for m in front.modules():
        if isinstance(m, torch.nn.BatchNorm3d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average
    front.train()
    with torch.no_grad():
        for w in windows:
            front(w)
    front.eval()
    for p in front.parameters():
        p.requires_grad_(False)


def train(clips: Sequence[TrainClip], width: float = 0.125, steps: int = 600, batch: int = 32,
          max_shift: int = 8, groups: int = 4, lr: float = 1e-3, seed: int = 0,
          log_path: Path | None = None, log_every: int = 10) -> tuple[SyncNet, list[dict]]:
    """Train SyncNet(width) on ``clips``; returns the model (eval mode) and the log rows.

    The two full-resolution lip layers stay at their seeded random initialisation (batch-norm
    statistics calibrated on the training windows) and their outputs are computed once; every
    other layer is trained. This keeps training to CPU minutes.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = SyncNet(width)
    data = _Windows(clips, model)
    rest = model.netcnnlip[FRONT:]
    log_scale = torch.nn.Parameter(torch.tensor(0.0))
    params = [p for p in model.parameters() if p.requires_grad] + [log_scale]
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    n_cand = 2 * max_shift + 1
    rows: list[dict] = []
    started = time.time()
    fields = ["step", "loss", "acc", "lr", "seconds"]
    if log_path is not None:
        log_path.write_text(",".join(fields) + "\n")
    model.train()
    model.netcnnlip[:FRONT].eval()
    group = batch // groups
    for step in range(1, steps + 1):
        # `groups` clips, each a run of `group` consecutive windows: the audio windows around a
        # run are shared by all its lip windows, and other runs' audio serves as negatives.
        cs = rng.choice(len(clips), size=groups, replace=False)
        starts = [int(rng.integers(max_shift, len(clips[c].frames) - 4 - group - max_shift)) for c in cs]
        lips = [(int(c), v + r) for c, v in zip(cs, starts) for r in range(group)]
        span = group + 2 * max_shift
        aud_in = torch.stack([data.aud(int(c), v - max_shift + j) for c, v in zip(cs, starts)
                              for j in range(span)])
        a = model.forward_aud(aud_in.unsqueeze(1)).reshape(groups, span, -1)
        h = rest(data.lip(lips))
        v = model.netfclip(h.reshape(len(lips), -1)).reshape(groups, group, -1)
        own = a.unfold(1, n_cand, 1)[:, :group].permute(0, 1, 3, 2)  # (G, R, n_cand, D)
        others = torch.stack([torch.cat([a[h2, max_shift + r:max_shift + r + 1] for h2 in range(groups)
                                         if h2 != g]) for g in range(groups) for r in range(group)])
        cand = torch.cat([own.reshape(len(lips), n_cand, -1), others], 1)
        dist = torch.linalg.vector_norm(v.reshape(len(lips), 1, -1) - cand + 1e-6, dim=2)
        logits = -dist * log_scale.exp()
        target = torch.full((len(lips),), max_shift, dtype=torch.long)
        loss = F.cross_entropy(logits, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        acc = float((logits.argmax(1) == target).float().mean())
        row = {"step": step, "loss": loss.item(), "acc": acc, "lr": sched.get_last_lr()[0],
               "seconds": round(time.time() - started, 1)}
        rows.append(row)
        if log_path is not None:  # appended per step so the log survives an interrupted run
            with open(log_path, "a", newline="") as fh:
                csv.DictWriter(fh, fields).writerow(row)
        if step % log_every == 0 or step == steps:
            recent = rows[-log_every:]
            print(f"step {step} loss {np.mean([r['loss'] for r in recent]):.3f} "
                  f"acc {np.mean([r['acc'] for r in recent]):.2f} {row['seconds']}s", flush=True)
    return model.eval(), rows


def shifted_pair(clip: TrainClip, k: int, margin: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Frames [margin, T-margin) with audio advanced by k frames (expected offset k)."""
    t = len(clip.frames)
    spf = 640
    frames = clip.frames[margin:t - margin]
    audio = clip.audio[(margin + k) * spf:(t - margin + k) * spf]
    return frames, audio


def calibrate(model: SyncNet, clips: Sequence[TrainClip], shifts: Sequence[int] = range(-10, 11),
              vshift: int = 15) -> dict:
    """Offset accuracy over audio shifts and LSE-C for matched vs mismatched audio."""
    net = FrozenSyncNet(model)
    hits, total = 0, 0
    per_shift: dict[int, int] = {}
    conf_real, conf_fake, dist_real, dist_fake = [], [], [], []
    for ci, clip in enumerate(clips):
        frames, _ = shifted_pair(clip, 0)
        n_win = len(frames) - 5
        lip = lip_embeddings(net, to_sync_frames(frames), n_win)
        for k in shifts:
            _, audio = shifted_pair(clip, k)
            res = score_embeddings(lip, audio_embeddings(net, audio, n_win), vshift)
            ok = res.offset == k
            hits += ok; total += 1
            per_shift[k] = per_shift.get(k, 0) + int(ok)
            if k == 0:
                conf_real.append(res.confidence); dist_real.append(res.min_dist)
        other = clips[(ci + 1) % len(clips)]
        _, audio = shifted_pair(other, 0)
        m = min(len(audio) // 640, len(frames)) - 5
        res = score_embeddings(lip[:m], audio_embeddings(net, audio, m), vshift)
        conf_fake.append(res.confidence); dist_fake.append(res.min_dist)
    return {
        "offset_accuracy": hits / total, "n_trials": total, "n_clips": len(clips),
        "shifts": [int(s) for s in shifts],
        "per_shift_correct": {str(k): v for k, v in per_shift.items()},
        "lse_c_matched_mean": float(np.mean(conf_real)), "lse_c_mismatched_mean": float(np.mean(conf_fake)),
        "lse_d_matched_mean": float(np.mean(dist_real)), "lse_d_mismatched_mean": float(np.mean(dist_fake)),
        "lse_c_matched": conf_real, "lse_c_mismatched": conf_fake,
    }


def held_out_clips(n: int, n_frames: int, seed: int = 1000) -> list[TrainClip]:
    """Clips of identities outside the train split (seeds disjoint from training)."""
    first = len(train_identity_ids())
    return [make_clip(seed + i, n_frames, f"face{first + 4 + i % 8:02d}") for i in range(n)]


def _plot(rows: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in rows]
    loss = np.array([r["loss"] for r in rows])
    k = max(1, len(loss) // 50)
    smooth = np.convolve(loss, np.ones(k) / k, "valid")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, loss, alpha=0.3, label="loss")
    ax.plot(steps[k - 1:], smooth, label=f"mean of {k}")
    ax.set_xlabel("step"); ax.set_ylabel("cross-entropy over offsets"); ax.legend()
    fig.tight_layout(); fig.savefig(path, dpi=100); plt.close(fig)


def _training_clips(n: int, n_frames: int, seed: int, ids: list[str],
                    cache: Path | None) -> list[TrainClip]:
    """Render (or load from ``cache``) the training clips; identities cycle over ``ids``."""
    key = f"{n}-{n_frames}-{seed}"
    if cache is not None and cache.is_file():
        z = np.load(cache)
        if str(z["key"]) == key:
            return [TrainClip(z[f"f{i}"], z[f"a{i}"], ids[i % len(ids)]) for i in range(n)]
    clips = [make_clip(seed * 100000 + i, n_frames, ids[i % len(ids)]) for i in range(n)]
    if cache is not None:
        arrays = {f"f{i}": c.frames for i, c in enumerate(clips)} | {f"a{i}": c.audio for i, c in enumerate(clips)}
        np.savez(cache, key=key, **arrays)
    return clips


def main(argv: Sequence[str] | None = None) -> None:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description="Train the embedded-track SyncNet.")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--width", type=float, default=0.125)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--clips", type=int, default=40)
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval-clips", type=int, default=16)
    ap.add_argument("--eval-frames", type=int, default=120)
    ap.add_argument("--cache", type=Path, default=None, help="npz file to reuse rendered clips")
    ap.add_argument("--source", choices=("embedded", "synthetic"), default="embedded",
                    help="embedded: the talking-face dataset's train split (held-out check on its "
                         "test split); synthetic: rendered train identities with phone-driven audio")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    ids = train_identity_ids()
    if args.source == "embedded":
        clips = embedded_clips("train", args.clips, seed=args.seed)
        held_out = embedded_clips("test", args.eval_clips, seed=args.seed)
    else:
        clips = _training_clips(args.clips, args.frames, args.seed, ids, args.cache)
        held_out = held_out_clips(args.eval_clips, args.eval_frames)
    print(f"rendered {len(clips)} training clips in {time.time() - t0:.0f}s", flush=True)
    model, rows = train(clips, args.width, args.steps, args.batch, lr=args.lr, seed=args.seed,
                        log_path=args.out / "train_log.csv")
    _plot(rows, args.out / "loss.png")
    cal = calibrate(model, held_out)
    meta = {"source": args.source, "width": args.width, "steps": args.steps, "batch": args.batch, "clips": args.clips,
            "frames": args.frames, "lr": args.lr, "seed": args.seed,
            "train_identities": sorted({c.identity for c in clips}), "final_loss": float(np.mean([r["loss"] for r in rows[-20:]])),
            "offset_accuracy": cal["offset_accuracy"],
            "train_seconds": round(time.time() - t0, 1),
            "command": "python -m bench.training.syncnet_train " + " ".join(argv or [])}
    torch.save({"state_dict": model.state_dict(), "width": args.width, "meta": meta},
               args.out / "syncnet_embedded.pt")
    (args.out / "calibration.json").write_text(json.dumps(cal, indent=1))
    print(json.dumps({k: v for k, v in cal.items() if not isinstance(v, list)}, indent=1))


if __name__ == "__main__":
    import sys
    main(sys.argv[1:])

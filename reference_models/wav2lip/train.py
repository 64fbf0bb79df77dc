"""Training Wav2Lip: the expert lip-sync discriminator first, then the generator against it.

Losses follow Wav2Lip's ``color_syncnet_train.py`` and ``wav2lip_train.py`` /
``hq_wav2lip_train.py``: BCE on the cosine similarity for the expert; for the generator
``(1 - w_s - w_d)·L1 + w_s·sync + w_d·adv``, where the sync weight switches on once the
validation sync loss falls below a threshold (0.75 in the reference). Runs are seeded,
resumable from ``<name>_last.pt`` and write a JSON-lines log and a PNG loss curve.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

from reference_models.g4g.geometry import region_masks
from reference_models.wav2lip.checkpoint import load_checkpoint, safe_load, save_checkpoint
from reference_models.wav2lip.data import WindowSampler
from reference_models.wav2lip.models import (
    SyncNetColor,
    copy_audio_encoder,
    Wav2Lip,
    Wav2LipDiscQual,
    lower_half_window,
)


@dataclass
class TrainConfig:
    """Hyperparameters; defaults are the reference's where it has one, else small CPU values."""

    width: float = 0.125
    steps: int = 300
    batch: int = 8
    lr: float = 1e-4
    eval_every: int = 50
    eval_batches: int = 4
    seed: int = 0
    sync_wt: float = 0.01  # 0.03 with the GAN in the reference
    sync_threshold: float = 0.75  # val sync loss below which sync_wt switches on
    disc_wt: float = 0.07
    gan: bool = False
    threads: int = 1
    # "bce": the reference's expert loss; "offsets": softmax over audio windows (below)
    expert_loss: str = "bce"
    max_shift: int = 6  # "offsets": audio windows at -D..D frames around each face window
    # start the generator's audio encoder from the expert's (an L1-only generator ignores audio)
    audio_from_expert: bool = False
    # L1 weight 1 + w_mouth inside the mouth ellipse (G4G's geometry); 0: the reference's plain L1
    w_mouth: float = 0.0
    # every N generator steps a float16 copy of the generator in snapshots/ (0: none); a phase
    # of a multi-phase recipe starts from such a file with --init-generator
    snapshot_every: int = 0


def _tensors(batch: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in batch.items()}


def sync_loss(expert: SyncNetColor, mel: torch.Tensor, faces: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    """BCE between the expert's audio-visual cosine similarity and the sync label."""
    a, v = expert(mel, faces)
    # Embeddings follow a ReLU, so the cosine lies in [0, 1]; clamp only guards rounding.
    cos = F.cosine_similarity(a, v).clamp(1e-7, 1 - 1e-7).unsqueeze(1)
    return F.binary_cross_entropy(cos, label)


class LogitScale(nn.Module):
    """The learned temperature of :func:`offset_loss` (trained with the expert, not part of it)."""

    def __init__(self, init: float = 10.0) -> None:
        super().__init__()
        self.log_scale = nn.Parameter(torch.tensor(float(np.log(init))))


def offset_loss(expert: SyncNetColor, mels: torch.Tensor, faces: torch.Tensor,
                scale: LogitScale) -> tuple[torch.Tensor, dict[str, float]]:
    """Each face window against every audio window of the batch: its own video's at offsets
    -D..D frames and every other sample's; cross-entropy on its synced window.

    ``mels`` (B, 2D+1, 1, 80, 16), synced at index D. Logits are cosine x a learned scale. One
    BCE negative per pair (the reference's loss) stayed at chance for 1200 CPU steps at this
    size; ranking against 2D+1 shifts of the same audio, which is what LSE measures, rose above
    chance within 1000 (the same objective trains the embedded evaluation SyncNet, whose
    weights are never used here). Also returns ``acc`` (top-1 among all B(2D+1) windows) and
    ``offset_acc`` (top-1 among the own video's 2D+1 offsets).
    """
    b, n = mels.shape[:2]
    a = expert.embed_audio(mels.flatten(0, 1))  # (B*n, E)
    v = expert.embed_faces(faces)  # (B, E)
    logits = scale.log_scale.exp() * v @ a.t()
    target = torch.arange(b) * n + n // 2
    loss = F.cross_entropy(logits, target)
    own = logits.reshape(b, b, n)[torch.arange(b), torch.arange(b)]  # (B, n)
    stats = {"acc": float((logits.argmax(1) == target).float().mean()),
             "offset_acc": float((own.argmax(1) == n // 2).float().mean())}
    return loss, stats


class _Run:
    """Bookkeeping shared by both trainings: log file, resume, best-on-val checkpoint, plot."""

    def __init__(self, out_dir: Path, name: str, cfg: TrainConfig):
        self.out_dir, self.name, self.cfg = Path(out_dir), name, cfg
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.out_dir / f"{name}_log.jsonl"
        self.last = self.out_dir / f"{name}_last.pt"
        self.best = self.out_dir / f"{name}.pt"

    def resume(self, modules: dict[str, nn.Module], optims: dict[str, torch.optim.Optimizer]) -> dict:
        """Load ``<name>_last.pt`` if present; returns its bookkeeping (step, best, ...)."""
        if not self.last.exists():
            self.log_path.unlink(missing_ok=True)
            return {"step": 0, "best": float("inf"), "extra": {}}
        obj = safe_load(self.last)
        for key, module in modules.items():
            module.load_state_dict(obj["modules"][key])
        for key, opt in optims.items():
            opt.load_state_dict(obj["optims"][key])
        # Drop log lines written after the checkpoint so a resumed run has no duplicates.
        if self.log_path.exists():
            rows = [json.loads(x) for x in self.log_path.read_text().splitlines() if x.strip()]
            keep = [r for r in rows if r["step"] <= obj["step"]]
            self.log_path.write_text("".join(json.dumps(r) + "\n" for r in keep))
        return {"step": int(obj["step"]), "best": float(obj["best"]), "extra": json.loads(obj["extra"])}

    def save_last(self, step: int, best: float, extra: dict, modules, optims) -> None:
        payload = {
            "step": step,
            "best": best,
            "extra": json.dumps(extra),
            "config": json.dumps(asdict(self.cfg)),
            "modules": {k: m.state_dict() for k, m in modules.items()},
            "optims": {k: o.state_dict() for k, o in optims.items()},
        }
        tmp = self.last.with_suffix(".tmp")
        torch.save(payload, tmp)
        tmp.replace(self.last)

    def log(self, row: dict) -> None:
        with self.log_path.open("a") as fh:
            fh.write(json.dumps(row) + "\n")

    def plot(self, keys: list[str]) -> Path:
        """Write ``<name>_loss.png`` with the train/val curves of ``keys``."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = [json.loads(x) for x in self.log_path.read_text().splitlines() if x.strip()]
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for key in keys:
            pts = [(r["step"], r[key]) for r in rows if key in r]
            if not pts:
                continue
            xs, ys = map(np.asarray, zip(*pts))
            if key.startswith("val"):
                ax.plot(xs, ys, label=key, marker="o", ms=3)
            else:
                # Per-step losses are noisy (one random batch each): show a running mean on top.
                k = max(1, min(25, len(ys) // 10))
                smooth = np.convolve(ys, np.ones(k) / k, mode="valid")
                line = ax.plot(xs, ys, alpha=0.25)[0]
                ax.plot(xs[k - 1 :], smooth, color=line.get_color(), label=f"{key} (mean of {k})")
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.set_title(self.name)
        ax.legend()
        fig.tight_layout()
        path = self.out_dir / f"{self.name}_loss.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return path


def _cpu_clock(extra: dict) -> Callable[[], float]:
    """CPU seconds the training has used since its first step: the process's CPU time from here
    on plus what a resumed run's checkpoint had counted (steps redone after a kill count once).
    The model cards' training cost comes from it."""
    start = time.process_time() - float(extra.get("cpu_s", 0.0))
    return lambda: round(time.process_time() - start, 2)


def _eval_batches(sampler: WindowSampler, cfg: TrainConfig, kind: str) -> list[dict[str, torch.Tensor]]:
    # Fixed validation batches so the numbers are comparable across evaluations.
    return [_draw(sampler, np.random.default_rng([cfg.seed, 999_999, i]), cfg, kind)
            for i in range(cfg.eval_batches)]


def _draw(sampler: WindowSampler, rng: np.random.Generator, cfg: TrainConfig,
          kind: str) -> dict[str, torch.Tensor]:
    """One batch of ``kind``: "offsets" / "sync" (the expert's losses) or "gen"."""
    if kind == "offsets":
        return _tensors(sampler.offset_batch(rng, cfg.batch, cfg.max_shift))
    draw = sampler.sync_batch if kind == "sync" else sampler.generator_batch
    return _tensors(draw(rng, cfg.batch))


def train_expert(
    train: WindowSampler, val: WindowSampler, out_dir: Path, cfg: TrainConfig,
    progress: bool = True, on_step: Callable[[int, float], None] | None = None,
) -> dict:
    """Train ``SyncNetColor`` on ``train``; keep the lowest-val-loss weights in ``expert.pt``."""
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    if cfg.expert_loss not in ("bce", "offsets"):
        raise ValueError(f"expert_loss must be 'bce' or 'offsets', got {cfg.expert_loss!r}")
    model = SyncNetColor(cfg.width)
    modules: dict[str, nn.Module] = {"model": model}
    if cfg.expert_loss == "offsets":
        modules["scale"] = LogitScale()
    params = [p for m in modules.values() for p in m.parameters()]
    opt = torch.optim.Adam(params, lr=cfg.lr)
    run = _Run(out_dir, "expert", cfg)
    state = run.resume(modules, {"opt": opt})
    kind = "offsets" if cfg.expert_loss == "offsets" else "sync"
    val_batches = _eval_batches(val, cfg, kind)

    def losses(b: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        if kind == "offsets":
            return offset_loss(model, b["mels"], b["faces"], modules["scale"])
        return sync_loss(model, b["mel"], b["faces"], b["label"]), {}

    step, best = state["step"], state["best"]
    cpu = _cpu_clock(state["extra"])
    bar = tqdm(total=cfg.steps, initial=step, desc="expert", disable=not progress)
    while step < cfg.steps:
        model.train()
        loss, stats = losses(_draw(train, np.random.default_rng([cfg.seed, step]), cfg, kind))
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        row = {"step": step, "train_loss": loss.item(), **{f"train_{k}": v for k, v in stats.items()}}
        if step % cfg.eval_every == 0 or step == cfg.steps:
            model.eval()
            with torch.no_grad():
                vals = [losses(v) for v in val_batches]
            row["val_loss"] = float(np.mean([float(loss) for loss, _ in vals]))
            for key in vals[0][1]:
                row[f"val_{key}"] = float(np.mean([st[key] for _, st in vals]))
            if row["val_loss"] < best:
                best = row["val_loss"]
                save_checkpoint(run.best, model, "syncnet", half=True, step=step, val_loss=best)
            row["cpu_s"] = cpu()
            run.log(row)
            run.save_last(step, best, {"cpu_s": row["cpu_s"]}, modules, {"opt": opt})
        else:
            row["cpu_s"] = cpu()
            run.log(row)
        bar.update(1)
        bar.set_postfix(loss=f"{row['train_loss']:.3f}", best_val=f"{best:.3f}")
        if on_step:
            on_step(step, row["train_loss"])
    bar.close()
    run.plot(["train_loss", "val_loss"])
    return {"best_val_loss": best, "steps": step, "checkpoint": str(run.best), "cpu_seconds": cpu()}


@functools.lru_cache(maxsize=4)
def _mouth_mask(size: int) -> torch.Tensor:
    # (1, 1, 1, S, S): built once per crop size, not at every step
    return region_masks(size)["mouth"][:, :, None]


def _weighted_l1(pred: torch.Tensor, target: torch.Tensor, w_mouth: float) -> torch.Tensor:
    """L1 of (B, 3, T, S, S) faces, weighted 1 + ``w_mouth`` on the mouth, normalised to the
    plain L1's scale (equal to it when ``w_mouth`` is 0)."""
    if w_mouth == 0:
        return F.l1_loss(pred, target)
    weight = 1.0 + w_mouth * _mouth_mask(pred.shape[-1])
    return ((pred - target).abs() * weight).mean() / weight.mean()


def _generator_losses(
    gen: Wav2Lip, expert: SyncNetColor, b: dict[str, torch.Tensor], disc: Wav2LipDiscQual | None,
    w_mouth: float = 0.0,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    pred = gen(b["frame_mels"], b["inputs"])
    l1 = _weighted_l1(pred, b["target"], w_mouth)
    ones = torch.ones(pred.size(0), 1)
    sync = sync_loss(expert, b["mel"], lower_half_window(pred), ones)
    parts = {"l1": l1, "sync": sync}
    if disc is not None:
        real_prob = disc(pred)
        parts["adv"] = F.binary_cross_entropy(real_prob, torch.ones_like(real_prob))
    return pred, parts


def train_generator(
    train: WindowSampler, val: WindowSampler, expert_path: Path, out_dir: Path, cfg: TrainConfig,
    progress: bool = True, init: Path | None = None,
) -> dict:
    """Train ``Wav2Lip`` against the frozen expert at ``expert_path``; best on val in ``wav2lip.pt``.

    ``init``: generator weights to start from (a fresh run only; a resumed one has its own).
    """
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    expert = load_checkpoint(expert_path, "syncnet")
    for p in expert.parameters():
        p.requires_grad_(False)
    gen = Wav2Lip(cfg.width)
    betas = (0.5, 0.999) if cfg.gan else (0.9, 0.999)
    modules: dict[str, nn.Module] = {"gen": gen}
    optims = {"gen": torch.optim.Adam(gen.parameters(), lr=cfg.lr, betas=betas)}
    disc = None
    if cfg.gan:
        disc = Wav2LipDiscQual(cfg.width)
        modules["disc"] = disc
        optims["disc"] = torch.optim.Adam(disc.parameters(), lr=cfg.lr, betas=betas)
    run = _Run(out_dir, "wav2lip", cfg)
    if init is not None and not run.last.exists():
        gen.load_state_dict(load_checkpoint(init, "wav2lip").state_dict())
    if cfg.audio_from_expert and init is None and not run.last.exists():
        copy_audio_encoder(expert, gen)
    state = run.resume(modules, optims)
    step, best = state["step"], state["best"]
    sync_on = bool(state["extra"].get("sync_on", False))
    cpu = _cpu_clock(state["extra"])
    disc_wt = cfg.disc_wt if cfg.gan else 0.0
    val_batches = _eval_batches(val, cfg, "gen")
    bar = tqdm(total=cfg.steps, initial=step, desc="wav2lip", disable=not progress)
    while step < cfg.steps:
        gen.train()
        b = _tensors(train.generator_batch(np.random.default_rng([cfg.seed, step]), cfg.batch))
        sync_wt = cfg.sync_wt if sync_on else 0.0
        pred, parts = _generator_losses(gen, expert, b, disc, cfg.w_mouth)
        loss = (1 - sync_wt - disc_wt) * parts["l1"] + sync_wt * parts["sync"]
        if disc is not None:
            loss = loss + disc_wt * parts["adv"]
        optims["gen"].zero_grad()
        loss.backward()
        optims["gen"].step()
        row = {"step": step + 1, "train_loss": loss.item(), "train_l1": parts["l1"].item(),
               "train_sync": parts["sync"].item(), "sync_wt": sync_wt}
        if disc is not None:
            real, fake = disc(b["target"]), disc(pred.detach())
            d_loss = F.binary_cross_entropy(real, torch.ones_like(real)) + F.binary_cross_entropy(
                fake, torch.zeros_like(fake)
            )
            optims["disc"].zero_grad()
            d_loss.backward()
            optims["disc"].step()
            row["train_disc"] = d_loss.item()
        step += 1
        if cfg.snapshot_every and step % cfg.snapshot_every == 0:
            save_checkpoint(out_dir / "snapshots" / f"gen_{step:06d}.pt", gen, "wav2lip",
                            half=True, step=step)
        if step % cfg.eval_every == 0 or step == cfg.steps:
            gen.eval()
            with torch.no_grad():
                vals = [_generator_losses(gen, expert, v, None, cfg.w_mouth)[1] for v in val_batches]
            row["val_l1"] = float(np.mean([float(v["l1"]) for v in vals]))
            row["val_sync"] = float(np.mean([float(v["sync"]) for v in vals]))
            # Selection uses the objective with the sync term on, whether or not it is yet.
            row["val_loss"] = (1 - cfg.sync_wt) * row["val_l1"] + cfg.sync_wt * row["val_sync"]
            if row["val_sync"] < cfg.sync_threshold:
                sync_on = True
            if row["val_loss"] < best:
                best = row["val_loss"]
                save_checkpoint(run.best, gen, "wav2lip", half=True, step=step, val_loss=best)
            row["cpu_s"] = cpu()
            run.log(row)
            run.save_last(step, best, {"sync_on": sync_on, "cpu_s": row["cpu_s"]}, modules, optims)
        else:
            row["cpu_s"] = cpu()
            run.log(row)
        bar.update(1)
        bar.set_postfix(l1=f"{row['train_l1']:.3f}", sync=f"{row['train_sync']:.3f}")
    bar.close()
    run.plot(["train_l1", "val_l1", "train_sync", "val_sync"])
    return {"best_val_loss": best, "steps": step, "checkpoint": str(run.best), "sync_on": sync_on,
            "cpu_seconds": cpu()}


def timed(fn: Callable[..., dict], *args, **kwargs) -> dict:
    """Run a training function and add its wall time in seconds to the result."""
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out

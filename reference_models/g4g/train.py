"""Two-stage training: (1) the inter-modal aligner, contrastively; (2) generator + fusion.

Seeded and resumable: ``<out>/last.pt`` holds model, optimiser, step, stage, RNG states, loss
history and the best (validation-selected) weights so far. Writes ``train.log``,
``history.json``, ``loss_curves.png`` and the selected inference weights ``g4g_<config>.pt``.

Command line (arrays stored as ``<data>/{train,val}/*.npz`` with ``frames``, ``boxes``,
``audio``)::

    python -m reference_models.g4g.train --config embedded --data DIR --out runs/g4g
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from reference_models.g4g.alignment import offset_scores
from reference_models.g4g.configs import G4GConfig, get_config
from reference_models.g4g.data import TalkingFaceArrays, VideoArrays
from reference_models.g4g.discriminator import MouthDiscriminator, d_loss
from reference_models.g4g.inference import aligner_references
from reference_models.g4g.losses import build_perceptual
from reference_models.g4g.model import (
    INFERENCE_KEYS,
    WEIGHTS_FORMAT,
    G4GModel,
    load_weights,
    save_weights,
)

LOG = logging.getLogger("reference_models.g4g.train")

# keys that may differ on resume: the schedule (lengths, validation and checkpoint cadence, when
# and how strongly the sync loss acts: changing them changes the run from the resumed step on)
# always; the other generator settings until stage 2 starts
SCHEDULE_KEYS = ("align_steps", "gen_steps", "val_every", "ckpt_every", "sync_start", "w_sync",
                 "gen_cosine", "w_gan", "gan_start")
GENERATOR_KEYS = frozenset({"gen_batch", "gen_lr", "w_l1", "w_perceptual", "w_mouth",
                            "w_fusion", "ref_out_of_mouth", "loss_scales", "train_reference",
                            "ema_decay"})


def _setup_log(out: Path) -> logging.Handler:
    handler = logging.FileHandler(out / "train.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    LOG.addHandler(handler)
    LOG.setLevel(logging.INFO)
    return handler


def _copy_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _as_run_state(path: Path) -> dict[str, Any]:
    """A weights file read as a finished run's ``last.pt`` for :meth:`Trainer.warm_start`."""
    model, meta = load_weights(path)
    return {"history": {}, "best": {
        "align": model.aligner.state_dict(), "align_loss": float("nan"), "align_step": -1,
        "generator": model.generator.state_dict(), "fusion": model.fusion.state_dict(),
        "gen_step": int(meta.get("gen_step", 0))}}


def plot_history(history: dict[str, Any], path: Path) -> None:
    """Loss curves of both stages as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, stage in zip(axes, ("align", "gen")):
        tr = history.get(f"{stage}_train", [])
        if tr:
            steps = [r["step"] for r in tr]
            for key in [k for k in tr[0] if k != "step"]:
                ax.plot(steps, [r[key] for r in tr], label=f"train {key}", lw=0.8)
        va = history.get(f"{stage}_val", [])
        if va:
            ax.plot([r["step"] for r in va], [r["loss"] for r in va], "k-o", ms=3,
                    label="val loss")
        # val accuracies (stage 1) or mouth L1 with right / shuffled audio (stage 2), linear axis
        extra = [k for k in ("sync_acc", "offset_acc", "mouth_l1", "mouth_l1_shuffled")
                 if va and k in va[0]]
        if extra:
            ax2 = ax.twinx()
            for key in extra:
                ax2.plot([r["step"] for r in va], [r[key] for r in va], "--", marker=".",
                         label=f"val {key}")
            ax2.legend(fontsize=7, loc="center right")
        ax.set_title("stage 1: inter-modal alignment" if stage == "align"
                     else "stage 2: generator + fusion")
        ax.set_xlabel("step")
        ax.set_yscale("log")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


class Trainer:
    """Holds the model, optimisers, RNGs and history; ``run()`` trains to the end or resumes."""

    def __init__(self, cfg: G4GConfig, train_data: TalkingFaceArrays,
                 val_data: TalkingFaceArrays, out: str | Path, progress: bool = True,
                 snapshots: bool = False) -> None:
        self.cfg, self.train_data, self.val_data = cfg, train_data, val_data
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.progress = progress
        # snapshots: inference weights at every generator validation (out/snapshots/), so that
        # candidates can be compared on whole val videos afterwards
        self.snapshots = snapshots
        self.pending_log: list[str] = []
        torch.manual_seed(cfg.seed)
        self.rng = np.random.default_rng(cfg.seed)
        self.model = G4GModel(cfg)
        self.perceptual = build_perceptual(cfg.perceptual, cfg.vgg19_weights)
        self.opt_align = torch.optim.Adam(self.model.aligner.parameters(), lr=cfg.align_lr,
                                          weight_decay=cfg.align_weight_decay)
        gen_params = list(self.model.generator.parameters()) + list(self.model.fusion.parameters())
        self.opt_gen = torch.optim.Adam(gen_params, lr=cfg.gen_lr, betas=(0.5, 0.999))
        # training-only critic of the lower face; built always so checkpoints have one shape
        self.disc = MouthDiscriminator(cfg.disc_width)
        self.opt_disc = torch.optim.Adam(self.disc.parameters(), lr=cfg.disc_lr,
                                         betas=(0.5, 0.999))
        # the moving average of the generator and fusion (torch's AveragedModel; buffers too, so
        # the batch-norm statistics match the averaged weights); _trained holds the raw modules
        self._trained = torch.nn.ModuleDict({"generator": self.model.generator,
                                             "fusion": self.model.fusion})
        self.ema = (AveragedModel(self._trained, use_buffers=True,
                                  multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay))
                    if cfg.ema_decay > 0 else None)
        self.stage, self.step = 1, 0
        self.history: dict[str, list[dict[str, float]]] = {
            "align_train": [], "align_val": [], "gen_train": [], "gen_val": []}
        self.best: dict[str, Any] = {"align_loss": float("inf"), "align_step": -1,
                                     "align": None, "gen_loss": float("inf"), "gen_step": -1,
                                     "generator": None, "fusion": None}
        # fixed validation batches, drawn from their own generator: diagonal-matrix batches of
        # 8 clips x 2 windows (16 pairs, chance top-1 1/16) whatever the training batch is
        vrng = np.random.default_rng(cfg.seed + 1000)
        nv = min(len(val_data), 8)
        self.val_sync = [val_data.sync_batch(vrng, nv, 2) for _ in range(cfg.val_batches)]
        self.val_gen = [val_data.gen_batch(vrng, max(2, cfg.gen_batch))
                        for _ in range(cfg.val_batches)]

    @contextmanager
    def _averaged(self) -> Iterator[None]:
        """Within the block the model's generator and fusion are the moving average's (when
        ``ema_decay`` is on), so validation, snapshots and the selected weights are of it."""
        m = self.model
        if self.ema is None:
            yield
            return
        m.generator, m.fusion = self.ema.module["generator"], self.ema.module["fusion"]
        try:
            yield
        finally:
            m.generator, m.fusion = self._trained["generator"], self._trained["fusion"]

    # -- checkpoints -------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"config": self.cfg.to_dict(), "stage": self.stage, "step": self.step,
                "model": self.model.state_dict(), "opt_align": self.opt_align.state_dict(),
                "opt_gen": self.opt_gen.state_dict(), "disc": self.disc.state_dict(),
                "opt_disc": self.opt_disc.state_dict(),
                "ema": self.ema.state_dict() if self.ema is not None else None,
                "rng_numpy": self.rng.bit_generator.state,
                "rng_torch": torch.get_rng_state(), "history": self.history, "best": self.best}

    def save(self) -> None:
        tmp = self.out / "last.pt.tmp"
        torch.save(self.state(), tmp)
        tmp.replace(self.out / "last.pt")

    def load(self, path: Path) -> None:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        # the schedule length may grow (to train longer); everything else must match
        free = set(SCHEDULE_KEYS) | INFERENCE_KEYS
        if ckpt["stage"] >= 2 and ckpt["step"] == 0:
            free |= GENERATOR_KEYS  # the generator has not started: its settings may change
        defaults = G4GConfig().to_dict()  # keys added since the checkpoint was written
        old = {k: v for k, v in {**defaults, **ckpt["config"]}.items() if k not in free}
        new = {k: v for k, v in self.cfg.to_dict().items() if k not in free}
        if old != new:
            raise ValueError(f"{path}: checkpoint was trained with another config; use a new "
                             "--out folder or the same config")
        self.model.load_state_dict(ckpt["model"])
        self.opt_align.load_state_dict(ckpt["opt_align"])
        self.opt_gen.load_state_dict(ckpt["opt_gen"])
        if "disc" in ckpt:  # checkpoints written before the adversarial term have none
            self.disc.load_state_dict(ckpt["disc"])
            self.opt_disc.load_state_dict(ckpt["opt_disc"])
        if self.ema is not None and ckpt.get("ema") is not None:
            self.ema.load_state_dict(ckpt["ema"])
        self.rng.bit_generator.state = ckpt["rng_numpy"]
        torch.set_rng_state(ckpt["rng_torch"])
        self.stage, self.step = ckpt["stage"], ckpt["step"]
        if self.stage == 3 and self.step < self.cfg.gen_steps:
            self.stage = 2  # a longer generator schedule: go on from where it ended
        self.history, self.best = ckpt["history"], ckpt["best"]
        LOG.info("resumed from %s at stage %d step %d", path, self.stage, self.step)

    def warm_start(self, path: Path, generator: bool = False) -> None:
        """Start stage 2 from another run's ``last.pt``: its selected aligner (and, with
        ``generator``, its selected generator and fusion), so that generator recipes can be
        compared on the same frozen training expert without re-running stage 1."""
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(ckpt, dict) and ckpt.get("format") == WEIGHTS_FORMAT:
            ckpt = _as_run_state(path)  # a weights file (a shipped checkpoint)
        best = ckpt["best"]
        if best.get("align") is None:
            raise ValueError(f"{path}: has no selected aligner (stage 1 not finished)")
        self.model.aligner.load_state_dict(best["align"])
        keep = ("align_loss", "align_step", "align")
        self.best.update({k: best[k] for k in keep})
        for key in ("align_train", "align_val"):
            self.history[key] = list(ckpt["history"].get(key, []))
        if generator:
            if best.get("generator") is None:
                raise ValueError(f"{path}: has no selected generator")
            try:
                self.model.generator.load_state_dict(best["generator"])
                self.model.fusion.load_state_dict(best["fusion"])
            except RuntimeError as exc:
                raise ValueError(f"{path}: generator does not match this config ({exc})") from exc
        self.stage, self.step = 2, 0
        # logged by run(), once train.log is open
        self.pending_log.append(f"warm start from {path} (aligner of step {best['align_step']}"
                                + (f", generator of step {best['gen_step']})" if generator
                                   else ")"))
        self.save()

    def warm_start_discriminator(self, path: Path) -> None:
        """Take the lower-face critic of another run's ``last.pt`` (its weights, not its
        optimiser), so that an adversarial phase does not start against an untrained critic."""
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(ckpt, dict) or "disc" not in ckpt:
            raise ValueError(f"{path}: has no discriminator (not a run's last.pt trained with "
                             "the adversarial term)")
        try:
            self.disc.load_state_dict(ckpt["disc"])
        except RuntimeError as exc:
            raise ValueError(f"{path}: discriminator does not match this config ({exc})") from exc
        self.pending_log.append(f"discriminator from {path} (its step {ckpt.get('step')})")
        self.save()

    # -- stage 1 -----------------------------------------------------------------------------
    @torch.no_grad()
    def validate_align(self) -> dict[str, float]:
        al = self.model.aligner
        al.eval()
        losses = [al.loss(m, f).item() for m, f in self.val_sync]
        accs = [al.sync_accuracy(m, f) for m, f in self.val_sync]
        out = {"loss": float(np.mean(losses)), "sync_acc": float(np.mean(accs))}
        if self.cfg.align_select == "sync":
            hits = trials = clip_hits = 0
            for vid in range(len(self.val_data)):
                h, n, c = offset_scores(al, *self.val_data.clip_windows(vid),
                                        self.cfg.align_offsets)
                hits, trials, clip_hits = hits + h, trials + n, clip_hits + c
            out["offset_acc"] = hits / max(trials, 1)
            out["clip_offset_acc"] = clip_hits / len(self.val_data)
        al.train()
        return out

    def _align_score(self, val: dict[str, float]) -> float:
        """Lower is better: val loss, or minus the mean of top-1 and offset recovery."""
        if self.cfg.align_select == "sync":
            return -0.5 * (val["sync_acc"] + val["offset_acc"])
        return val["loss"]

    def _augment(self, faces: torch.Tensor) -> torch.Tensor:
        """Per-sample colour jitter of (B,3T,H,W) lower faces (same for all T frames)."""
        b, c = faces.shape[:2]
        gain = torch.from_numpy(self.rng.uniform(0.8, 1.2, (b, 3))).float()
        shift = torch.from_numpy(self.rng.uniform(-0.06, 0.06, (b, 3))).float()
        t = c // 3
        gain = gain.repeat(1, t)[:, :, None, None]
        shift = shift.repeat(1, t)[:, :, None, None]
        return (faces * gain + shift).clamp(0.0, 1.0)

    def _align_lr(self) -> float:
        cfg = self.cfg
        if not cfg.align_cosine:
            return cfg.align_lr
        return 0.5 * cfg.align_lr * (1.0 + float(np.cos(np.pi * self.step / cfg.align_steps)))

    def train_align(self) -> None:
        cfg, al = self.cfg, self.model.aligner
        al.train()
        bar = tqdm(total=cfg.align_steps, initial=self.step, desc="g4g align",
                   disable=not self.progress)
        while self.step < cfg.align_steps:
            mel, faces = self.train_data.sync_batch(self.rng, cfg.align_batch_clips,
                                                    cfg.align_windows_per_clip)
            if cfg.align_augment:
                faces = self._augment(faces)
            for group in self.opt_align.param_groups:
                group["lr"] = self._align_lr()
            loss = al.loss(mel, faces)
            self.opt_align.zero_grad()
            loss.backward()
            self.opt_align.step()
            self.step += 1
            bar.update(1)
            if self.step % 10 == 0:
                self.history["align_train"].append({"step": self.step, "loss": loss.item()})
                bar.set_postfix(loss=f"{loss.item():.3f}")
            if self.step % cfg.val_every == 0 or self.step == cfg.align_steps:
                val = self.validate_align()
                self.history["align_val"].append({"step": self.step, **val})
                LOG.info("align step %d train %.4f val %s", self.step, loss.item(),
                         " ".join(f"{k} {v:.4f}" for k, v in val.items()))
                score = self._align_score(val)
                if score < self.best["align_loss"]:
                    self.best.update(align_loss=score, align_step=self.step,
                                     align=_copy_state(al))
            if self.step % cfg.ckpt_every == 0:
                self.save()
        bar.close()
        self.stage, self.step = 2, 0
        self.save()

    # -- stage 2 -----------------------------------------------------------------------------
    def _freeze_aligner(self) -> None:
        al = self.model.aligner
        if self.best["align"] is not None:
            al.load_state_dict(self.best["align"])
        al.requires_grad_(False)
        al.eval()

    def _choose_references(self) -> None:
        """Training references as inference picks them (``train_reference="aligner"``): the
        frozen aligner's choice for every frame of every video; with "aligner-mixed" also its
        choice among the frames of another video of the same face. Val batches are redrawn."""
        cfg = self.cfg

        def pick(data: TalkingFaceArrays, source: int, v: int, exclude: int) -> np.ndarray:
            return aligner_references(self.model, data.faces[source], data.frame_mels[v][:, None],
                                      np.arange(len(data.faces[v])), exclude,
                                      cfg.reference_continuity, cfg.reference_context)

        prng = np.random.default_rng(cfg.seed + 3000)
        for data in (self.train_data, self.val_data):
            data.ref_choice = [pick(data, v, v, cfg.reference_exclude) for v in range(len(data))]
            if cfg.train_reference == "aligner-mixed":
                # another sentence's frames: none is this frame, so nothing to exclude
                partners = [data.partner(v, prng) for v in range(len(data))]
                data.cross_choice = [None if u is None else (u, pick(data, u, v, 0))
                                     for v, u in enumerate(partners)]
        vrng = np.random.default_rng(cfg.seed + 2000)
        self.val_gen = [self.val_data.gen_batch(vrng, max(2, cfg.gen_batch))
                        for _ in range(cfg.val_batches)]

    @torch.no_grad()
    def validate_gen(self) -> dict[str, float]:
        m = self.model
        m.generator.eval()
        m.fusion.eval()
        # always the full loss (sync included), so scores before and after the sync loss is
        # switched on compare
        rows = [m.generator_losses(b, self.perceptual, diagnostics=True) for b in self.val_gen]
        m.generator.train()
        m.fusion.train()
        out = {k: float(np.mean([r[k].item() for r in rows])) for k in rows[0]}
        out["loss"] = out.pop("total")
        return out

    def _gen_lr(self) -> float:
        cfg = self.cfg
        if not cfg.gen_cosine:
            return cfg.gen_lr
        return 0.5 * cfg.gen_lr * (1.0 + float(np.cos(np.pi * self.step / cfg.gen_steps)))

    def train_gen(self) -> None:
        cfg, m = self.cfg, self.model
        self._freeze_aligner()
        if cfg.train_reference != "random":
            self._choose_references()
        m.generator.train()
        m.fusion.train()
        bar = tqdm(total=cfg.gen_steps, initial=self.step, desc="g4g generator",
                   disable=not self.progress)
        while self.step < cfg.gen_steps:
            batch = self.train_data.gen_batch(self.rng, cfg.gen_batch)
            for group in self.opt_gen.param_groups:
                group["lr"] = self._gen_lr()
            gan_on = cfg.w_gan > 0 and self.step >= cfg.gan_start
            losses = m.generator_losses(batch, self.perceptual,
                                        sync_on=self.step >= cfg.sync_start,
                                        disc=self.disc if gan_on else None, w_gan=cfg.w_gan)
            self.opt_gen.zero_grad()
            losses["total"].backward()
            self.opt_gen.step()
            if gan_on:
                # the critic's step after the generator's (its gradients from the generator
                # loss are discarded by this zero_grad)
                dl = d_loss(self.disc, losses.pop("real_lower"), losses.pop("fake_lower"))
                self.opt_disc.zero_grad()
                dl.backward()
                self.opt_disc.step()
                losses["disc"] = dl.detach()
            if self.ema is not None:
                self.ema.update_parameters(self._trained)
            self.step += 1
            bar.update(1)
            if self.step % 10 == 0:
                self.history["gen_train"].append(
                    {"step": self.step, **{k: v.item() for k, v in losses.items()}})
                bar.set_postfix(loss=f"{losses['total'].item():.3f}")
            if self.step % cfg.val_every == 0 or self.step == cfg.gen_steps:
                with self._averaged():
                    self._validate_and_keep(losses["total"].item())
            if self.step % cfg.ckpt_every == 0:
                self.save()
        bar.close()
        self.stage = 3
        self.save()

    def _validate_and_keep(self, train_loss: float) -> None:
        m = self.model
        val = self.validate_gen()
        self.history["gen_val"].append({"step": self.step, **val})
        LOG.info("gen step %d train %.4f val %s", self.step, train_loss,
                 " ".join(f"{k} {v:.4f}" for k, v in val.items()))
        if self.snapshots:
            (self.out / "snapshots").mkdir(exist_ok=True)
            save_weights(self.out / "snapshots" / f"gen_{self.step:06d}.pt", m,
                         {"gen_step": self.step, "val": val,
                          "ema_decay": self.cfg.ema_decay})
        if val["loss"] < self.best["gen_loss"]:
            self.best.update(gen_loss=val["loss"], gen_step=self.step,
                             generator=_copy_state(m.generator), fusion=_copy_state(m.fusion))

    # -- all ---------------------------------------------------------------------------------
    def run(self, resume: bool = True) -> Path:
        """Train both stages (resuming from ``last.pt`` if present); return the weights path."""
        handler = _setup_log(self.out)
        try:
            for line in self.pending_log:
                LOG.info(line)
            last = self.out / "last.pt"
            if resume and last.is_file():
                self.load(last)
            LOG.info("config %s; %d train videos, %d val videos", json.dumps(self.cfg.to_dict()),
                     len(self.train_data), len(self.val_data))
            t0, c0 = time.time(), time.process_time()
            if self.stage == 1:
                self.train_align()
            LOG.info("stage 1 done in %.0f s wall, %.0f s CPU (best val %.4f at step %d)",
                     time.time() - t0, time.process_time() - c0, self.best["align_loss"],
                     self.best["align_step"])
            t1, c1 = time.time(), time.process_time()
            if self.stage == 2:
                self.train_gen()
            LOG.info("stage 2 done in %.0f s wall, %.0f s CPU (best val %.4f at step %d)",
                     time.time() - t1, time.process_time() - c1, self.best["gen_loss"],
                     self.best["gen_step"])
            return self.export()
        finally:
            LOG.removeHandler(handler)
            handler.close()

    def export(self) -> Path:
        """Write the validation-selected weights, history and curves."""
        m = self.model
        self._freeze_aligner()
        if self.best["generator"] is not None:
            m.generator.load_state_dict(self.best["generator"])
            m.fusion.load_state_dict(self.best["fusion"])
        path = self.out / f"g4g_{self.cfg.name}.pt"
        meta = {"align_val_loss": self.best["align_loss"], "align_step": self.best["align_step"],
                "gen_val_loss": self.best["gen_loss"], "gen_step": self.best["gen_step"],
                "train_videos": list(self.train_data.names),
                "val_videos": list(self.val_data.names)}
        save_weights(path, m, meta)
        (self.out / "history.json").write_text(json.dumps(self.history, indent=1))
        plot_history(self.history, self.out / "loss_curves.png")
        LOG.info("wrote %s", path)
        return path


def train(cfg: G4GConfig, train_videos: Sequence[VideoArrays], val_videos: Sequence[VideoArrays],
          out: str | Path, resume: bool = True, progress: bool = True,
          snapshots: bool = False, init_from: Path | None = None,
          init_generator: bool = False, init_discriminator: Path | None = None) -> Path:
    """Train G4G on ``train_videos``, select on ``val_videos``; return the weights file.

    ``init_from``: a finished stage 1 in another run's ``last.pt`` to start stage 2 from (used
    only when ``out`` has no ``last.pt`` yet, so that a resumed run is not re-initialised);
    ``init_discriminator``: another run's ``last.pt`` whose critic to start from (likewise)."""
    if init_discriminator is not None and init_from is None:
        raise ValueError("init_discriminator needs init_from (a stage 2 to start)")
    torch.set_num_threads(1)
    trainer = Trainer(cfg, TalkingFaceArrays(train_videos, cfg),
                      TalkingFaceArrays(val_videos, cfg), out, progress, snapshots)
    if init_from is not None and not (resume and (Path(out) / "last.pt").is_file()):
        trainer.warm_start(Path(init_from), init_generator)
        if init_discriminator is not None:
            trainer.warm_start_discriminator(Path(init_discriminator))
    return trainer.run(resume)


def load_npz_folder(folder: Path) -> list[VideoArrays]:
    """Videos stored as ``*.npz`` with arrays ``frames``, ``boxes`` and ``audio`` (16 kHz)."""
    files = sorted(Path(folder).glob("*.npz"))
    if not files:
        raise FileNotFoundError(f"no .npz videos in {folder}")
    out = []
    for f in files:
        with np.load(f) as z:
            missing = {"frames", "boxes", "audio"} - set(z.files)
            if missing:
                raise ValueError(f"{f}: missing arrays {sorted(missing)}")
            out.append(VideoArrays(f.stem, z["frames"], z["boxes"], z["audio"]))
    return out


def main(argv: Sequence[str] | None = None,
         load: Callable[[Path], tuple[list[VideoArrays], list[VideoArrays]]] | None = None) -> None:
    """Command-line entry: train from npz folders."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="embedded")
    ap.add_argument("--data", type=Path, required=load is None)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--no-resume", action="store_true")
    args = ap.parse_args(argv)
    cfg = get_config(args.config)
    if load is None:
        tr, va = load_npz_folder(args.data / "train"), load_npz_folder(args.data / "val")
    else:
        tr, va = load(args.data)
    print(train(cfg, tr, va, args.out, resume=not args.no_resume))


if __name__ == "__main__":
    main()

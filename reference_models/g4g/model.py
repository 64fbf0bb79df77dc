"""The whole G4G model (alignment, generator, fusion), its training losses and weight files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from reference_models.g4g.alignment import AVAligner, diagonal_alignment_loss, lower_half_stack
from reference_models.g4g.configs import G4GConfig
from reference_models.g4g.discriminator import MouthDiscriminator, g_loss, lower_half
from reference_models.g4g.fusion import FaceFusion
from reference_models.g4g.generator import G4GGenerator, mask_lower_half
from reference_models.g4g.geometry import region_masks
from reference_models.g4g.losses import multiscale_loss

WEIGHTS_FORMAT = "g4g-weights-v1"


class G4GModel(nn.Module):
    """Inter-modal aligner + generator + fusion network."""

    def __init__(self, cfg: G4GConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.aligner = AVAligner(cfg)
        self.generator = G4GGenerator(cfg)
        self.fusion = FaceFusion(cfg.fusion_width, cfg.fusion)
        self.register_buffer("mouth_mask", region_masks(cfg.face_size)["mouth"],
                             persistent=False)

    def faces(self, masked: torch.Tensor, refs: torch.Tensor, frame_mels: torch.Tensor
              ) -> torch.Tensor:
        """(N,3,S,S) masked faces + references + (N,1,n_mels,steps) mels -> generated faces."""
        return self.generator(masked, refs, self.aligner.embed_audio(frame_mels))

    def generator_losses(self, batch: dict[str, torch.Tensor], perceptual: nn.Module | None,
                         sync_on: bool = True, diagnostics: bool = False,
                         disc: MouthDiscriminator | None = None, w_gan: float = 0.0
                         ) -> dict[str, torch.Tensor]:
        """Stage-2 losses of one batch from :meth:`TalkingFaceArrays.gen_batch`.

        ``sync_on=False`` leaves the sync term out of ``total`` (it is still reported);
        ``diagnostics`` adds the validation numbers of :meth:`_diagnostics`. With ``disc``, the
        adversarial term ``gan`` (weighted by ``w_gan`` in ``total``) is added, and
        ``fake_lower`` / ``real_lower`` (detached) return the discriminator's inputs.
        """
        cfg = self.cfg
        b, t = batch["faces"].shape[:2]
        flat = lambda x: x.reshape(b * t, *x.shape[2:])
        target, frames, boxes = flat(batch["faces"]), flat(batch["frames"]), flat(batch["boxes"])
        faces = self.faces(mask_lower_half(target), flat(batch["refs"]),
                           flat(batch["frame_mels"]))
        weight = 1.0 + cfg.w_mouth * self.mouth_mask
        face = multiscale_loss(faces, target, weight, perceptual, cfg.loss_scales, cfg.w_l1,
                               cfg.w_perceptual)
        # sync: the frozen aligner must find generated lower faces synced with their audio
        a = self.aligner.embed_audio(batch["sync_mel"])
        v = self.aligner.embed_visual(lower_half_stack(faces.view(b, t, *faces.shape[1:])))
        sync = diagonal_alignment_loss(a, v, cfg.align_loss, self.aligner.log_tau.exp()) \
            if b > 1 else faces.new_zeros(())
        # fusion is per frame: train it on the middle frame of each window to save compute
        mid = torch.arange(b, device=faces.device) * t + t // 2
        fused = self.fusion(faces[mid], frames[mid], boxes[mid])
        fusion = multiscale_loss(fused, frames[mid], torch.ones_like(fused[:, :1]), perceptual,
                                 (1.0,), 1.0, cfg.w_perceptual)
        w_sync = cfg.w_sync if sync_on else 0.0
        total = face["total"] + w_sync * sync + cfg.w_fusion * fusion["total"]
        out = {"total": total, "l1": face["l1"], "perceptual": face["perceptual"],
               "sync": sync, "fusion": fusion["total"]}
        if disc is not None:
            fake = lower_half(faces)
            adv = g_loss(disc, fake)
            out["total"] = total + w_gan * adv
            out.update(gan=adv, fake_lower=fake.detach(), real_lower=lower_half(target))
        if diagnostics:
            out.update(self._diagnostics(batch, faces, target))
        return out

    @torch.no_grad()
    def _diagnostics(self, batch: dict[str, torch.Tensor], faces: torch.Tensor,
                     target: torch.Tensor) -> dict[str, torch.Tensor]:
        """Validation-only numbers: mouth-region L1 with the right audio and with the audio of
        another window (rolled over the batch), and the sync loss of the shuffled case, which
        show whether the audio actually drives the mouth."""
        b, t = batch["faces"].shape[:2]
        flat = lambda x: x.reshape(b * t, *x.shape[2:])
        m = self.mouth_mask
        l1 = lambda x: ((x - target).abs() * m).sum() / (m.sum() * 3 * x.shape[0])
        shuffled = self.faces(mask_lower_half(target), flat(batch["refs"]),
                              flat(batch["frame_mels"].roll(1, dims=0)))
        a = self.aligner.embed_audio(batch["sync_mel"])
        v = self.aligner.embed_visual(lower_half_stack(shuffled.view(b, t, *faces.shape[1:])))
        sync_sh = diagonal_alignment_loss(a, v, self.cfg.align_loss, self.aligner.log_tau.exp())
        return {"mouth_l1": l1(faces), "mouth_l1_shuffled": l1(shuffled),
                "sync_shuffled": sync_sh,
                "mouth_sharpness": _edge_energy(faces, m) / _edge_energy(target, m)}


def _edge_energy(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean absolute image gradient inside ``mask``: 1.0 for generated / real means as sharp as
    the real mouth, below 1 blurrier (a blur the evaluation SyncNet is very sensitive to)."""
    gx = (x[..., :, 1:] - x[..., :, :-1]).abs() * mask[..., :, 1:]
    gy = (x[..., 1:, :] - x[..., :-1, :]).abs() * mask[..., 1:, :]
    return gx.mean() + gy.mean()


def _state(module: nn.Module, half: bool) -> dict[str, torch.Tensor]:
    sd = module.state_dict()
    if half:
        sd = {k: v.half() if v.is_floating_point() else v for k, v in sd.items()}
    return sd


def save_weights(path: str | Path, model: G4GModel, meta: dict[str, Any] | None = None,
                 half: bool = True) -> None:
    """Write the inference weights (float16 by default) with the config and metadata."""
    torch.save({"format": WEIGHTS_FORMAT, "config": model.cfg.to_dict(),
                "aligner": _state(model.aligner, half),
                "generator": _state(model.generator, half),
                "fusion": _state(model.fusion, half), "meta": dict(meta or {})}, str(path))


# config keys that only change how inference runs, not what was trained: a weights file may be
# re-exported with other values (``export_weights``), and a run may resume with them changed
INFERENCE_KEYS = frozenset({"reference_select", "reference_exclude", "reference_continuity",
                            "reference_context", "steady_boxes"})


def export_weights(src: str | Path, dst: str | Path, **inference: Any) -> Path:
    """Copy a weights file with inference-only config keys set (e.g. the reference selection
    chosen on val after training); any other key is refused, since the weights depend on it."""
    bad = set(inference) - INFERENCE_KEYS
    if bad:
        raise ValueError(f"only inference keys can be set on trained weights "
                         f"({', '.join(sorted(INFERENCE_KEYS))}), not {sorted(bad)}")
    model, meta = load_weights(src)  # a readable weights file
    cfg = G4GConfig.from_dict({**model.cfg.to_dict(), **inference})
    ckpt = torch.load(str(src), map_location="cpu", weights_only=True)
    ckpt["config"] = cfg.to_dict()
    ckpt["meta"] = {**meta, "exported_from": Path(src).name, "inference_keys": inference}
    torch.save(ckpt, str(dst))
    return Path(dst)


def load_weights(path: str | Path, map_location: str = "cpu") -> tuple[G4GModel, dict[str, Any]]:
    """Load a weights file written by :func:`save_weights` (``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"G4G weights file not found: {path}")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # corrupt or foreign file
        raise ValueError(f"{path}: not a readable G4G weights file ({exc})") from exc
    if not isinstance(ckpt, dict) or ckpt.get("format") != WEIGHTS_FORMAT:
        raise ValueError(f"{path}: not a G4G weights file (format {WEIGHTS_FORMAT!r} expected)")
    model = G4GModel(G4GConfig.from_dict(ckpt["config"]))
    for name in ("aligner", "generator", "fusion"):
        part = getattr(model, name)
        state = {k: v.float() if v.is_floating_point() else v for k, v in ckpt[name].items()}
        missing, unexpected = part.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ValueError(f"{path}: {name} weights do not match the config: missing "
                             f"{missing[:5]}, unexpected {unexpected[:5]}")
    model.eval()
    return model, ckpt.get("meta", {})

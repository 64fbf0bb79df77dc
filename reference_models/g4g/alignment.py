"""Inter-modal alignment: audio and lower-face encoders trained with the "diagonal matrix" loss.

A batch of B synced (audio window, 5-frame lower face) pairs gives a B x B similarity matrix; its
diagonal holds the synced pairs, every off-diagonal entry (another clip, or a time-shifted window
of the same clip) is a negative, and the target is the identity matrix.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from reference_models.g4g.configs import G4GConfig
from reference_models.g4g.layers import ConvBlock, ResBlock


def diagonal_alignment_loss(audio: torch.Tensor, visual: torch.Tensor, kind: str = "infonce",
                            tau: float | torch.Tensor = 0.07) -> torch.Tensor:
    """Contrastive loss on the B x B audio-visual similarity matrix with the identity as target.

    ``audio`` and ``visual`` are (B, D) and L2-normalised inside. ``infonce``: symmetric
    cross-entropy of cos/tau over rows and columns. ``dense_bce``: binary cross-entropy of every
    cosine (clamped to [0, 1], as Wav2Lip's expert uses it) against the identity matrix.
    """
    if audio.ndim != 2 or audio.shape != visual.shape:
        raise ValueError(f"expected two (B, D) tensors of one shape, got {tuple(audio.shape)} "
                         f"and {tuple(visual.shape)}")
    b = audio.shape[0]
    if b < 2:
        raise ValueError("the diagonal-matrix loss needs a batch of at least 2 pairs")
    a = F.normalize(audio, dim=1)
    v = F.normalize(visual, dim=1)
    cos = a @ v.t()
    target = torch.arange(b, device=audio.device)
    if kind == "infonce":
        logits = cos / tau
        return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))
    if kind == "dense_bce":
        eye = torch.eye(b, device=audio.device, dtype=cos.dtype)
        return F.binary_cross_entropy(cos.clamp(0.0, 1.0), eye)
    raise ValueError(f"unknown alignment loss {kind!r}; use 'infonce' or 'dense_bce'")


class VisualSyncEncoder(nn.Module):
    """Lower halves of ``sync_frames`` RGB faces stacked on channels -> one embedding."""

    def __init__(self, cfg: G4GConfig) -> None:
        super().__init__()
        w = cfg.align_width
        cin = 3 * cfg.sync_frames
        self.net = nn.Sequential(
            ConvBlock(cin, w, 5),
            ConvBlock(w, 2 * w, 3, (1, 2)), ResBlock(2 * w),
            ConvBlock(2 * w, 4 * w, 3, 2), ResBlock(4 * w),
            ConvBlock(4 * w, 8 * w, 3, 2), ResBlock(8 * w),
            ConvBlock(8 * w, 8 * w, 3, 2),
            ConvBlock(8 * w, 8 * w, 3, 2),
            nn.AdaptiveAvgPool2d(1),
        )
        self.proj = nn.Linear(8 * w, cfg.embed_dim)
        self.scale = cfg.align_input_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.scale != 1.0:
            size = (max(8, round(x.shape[-2] * self.scale)), max(8, round(x.shape[-1] * self.scale)))
            x = F.interpolate(x, size=size, mode="area")
        return self.proj(self.net(x).flatten(1))


class AudioSyncEncoder(nn.Module):
    """One mel window (1, n_mels, mel_steps) -> one embedding."""

    def __init__(self, cfg: G4GConfig) -> None:
        super().__init__()
        w = cfg.align_width
        self.net = nn.Sequential(
            ConvBlock(1, w, 3),
            ConvBlock(w, 2 * w, 3, (3, 1)), ResBlock(2 * w),
            ConvBlock(2 * w, 4 * w, 3, 3), ResBlock(4 * w),
            ConvBlock(4 * w, 8 * w, 3, (3, 2)), ResBlock(8 * w),
            ConvBlock(8 * w, 8 * w, 3, 1),
            nn.AdaptiveAvgPool2d(1),
        )
        self.proj = nn.Linear(8 * w, cfg.embed_dim)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.proj(self.net(mel).flatten(1))


class AVAligner(nn.Module):
    """The inter-modal alignment module: two encoders and the diagonal-matrix loss."""

    def __init__(self, cfg: G4GConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.audio = AudioSyncEncoder(cfg)
        self.visual = VisualSyncEncoder(cfg)
        log_tau = torch.tensor(math.log(cfg.tau))
        if cfg.learnable_tau:
            self.log_tau = nn.Parameter(log_tau)
        else:
            self.register_buffer("log_tau", log_tau)

    def _finish(self, e: torch.Tensor) -> torch.Tensor:
        # dense BCE reads cosines as probabilities, so keep embeddings non-negative (as Wav2Lip)
        if self.cfg.align_loss == "dense_bce":
            e = F.relu(e)
        return F.normalize(e, dim=1)

    def embed_audio(self, mel: torch.Tensor) -> torch.Tensor:
        """(B, 1, n_mels, mel_steps) -> (B, embed_dim), unit norm."""
        return self._finish(self.audio(mel))

    def embed_visual(self, lower_faces: torch.Tensor) -> torch.Tensor:
        """(B, 3*sync_frames, H/2, W) in [0, 1] -> (B, embed_dim), unit norm."""
        return self._finish(self.visual(lower_faces))

    def loss(self, mel: torch.Tensor, lower_faces: torch.Tensor) -> torch.Tensor:
        """Diagonal-matrix loss of a batch of synced pairs."""
        return diagonal_alignment_loss(self.embed_audio(mel), self.embed_visual(lower_faces),
                                       self.cfg.align_loss, self.log_tau.exp())

    @torch.no_grad()
    def sync_accuracy(self, mel: torch.Tensor, lower_faces: torch.Tensor) -> float:
        """Share of rows whose most similar visual embedding is the synced one (a val score)."""
        cos = self.embed_audio(mel) @ self.embed_visual(lower_faces).t()
        return (cos.argmax(dim=1) == torch.arange(cos.shape[0])).float().mean().item()


@torch.no_grad()
def offset_similarities(aligner: AVAligner, mel_windows: torch.Tensor, lower_faces: torch.Tensor,
                        max_offset: int) -> torch.Tensor:
    """(windows, 2D+1) cosine of each lip window with the audio windows at offsets -D..D.

    ``mel_windows`` (n,1,n_mels,steps) and ``lower_faces`` (n,3T,H/2,W) are the synced windows
    0..n-1 of one clip; only windows with every offset inside the clip are scored (an empty
    result when the clip has no such window).
    """
    a = aligner.embed_audio(mel_windows)
    v = aligner.embed_visual(lower_faces)
    n, d = len(a), max_offset
    if n <= 2 * d:
        return a.new_zeros((0, 2 * d + 1))
    cos = v @ a.t()  # (lip window, audio window)
    ks = torch.arange(d, n - d)
    return cos[ks[:, None], ks[:, None] + torch.arange(-d, d + 1)[None, :]]


def offset_scores(aligner: AVAligner, mel_windows: torch.Tensor, lower_faces: torch.Tensor,
                  max_offset: int) -> tuple[int, int, bool]:
    """Offset recovery of one clip: (per-window hits, per-window trials, clip-level hit).

    Per window, the audio most similar to its lips must be offset 0; the clip-level check first
    averages the similarity per offset over the windows (as LSE's offset search does).
    """
    sims = offset_similarities(aligner, mel_windows, lower_faces, max_offset)
    if not len(sims):
        return 0, 0, False
    d = max_offset
    return int((sims.argmax(1) == d).sum()), len(sims), bool(sims.mean(0).argmax() == d)


def lower_half_stack(faces: torch.Tensor) -> torch.Tensor:
    """(B, T, 3, H, W) faces -> (B, 3T, H/2, W) lower halves, the visual input of the aligner."""
    b, t, c, h, w = faces.shape
    return faces[:, :, :, h // 2:, :].reshape(b, t * c, h - h // 2, w)

"""Inference: identity video + driving audio -> lip-synced full frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from reference_models.g4g.alignment import lower_half_stack
from reference_models.g4g.data import face_crops, frames_to_tensor, prepare_audio
from reference_models.g4g.generator import mask_lower_half
from reference_models.g4g.geometry import check_boxes, pingpong_indices
from reference_models.wav2lip.faces import steady_boxes
from reference_models.g4g.model import G4GModel, load_weights
from reference_models.wav2lip.audio import frame_windows, melspectrogram


def reference_indices(n_source: int, source_idx: np.ndarray) -> np.ndarray:
    """Reference frame per output frame: half the video away, so it never is the target frame."""
    if n_source == 1:
        return np.zeros_like(source_idx)
    return (source_idx + max(1, n_source // 2)) % n_source


def _centred(n: int, idx: np.ndarray, half: int) -> np.ndarray:
    """(len(idx), 2*half+1) frame indices centred on ``idx``, clamped to 0..n-1."""
    return np.clip(idx[:, None] + np.arange(-half, half + 1)[None, :], 0, n - 1)


@torch.no_grad()
def aligner_references(model: G4GModel, faces: torch.Tensor, mels: torch.Tensor,
                       src: np.ndarray, exclude: int, continuity: float = 0.0,
                       context: int = 0) -> np.ndarray:
    """Reference frame per output frame chosen by the inter-modal aligner.

    ``faces`` (T,3,S,S) uint8 identity crops, ``mels`` (n_out,1,n_mels,steps) the output frames'
    audio windows (window i starts at frame i), ``src`` the identity frame each output frame
    replaces. Output frame i takes the identity frame j whose 5-frame lip window (centred on j)
    has the highest cosine with the audio window centred on i, among frames with
    |j - src[i]| >= ``exclude``; with no such frame, the farthest one. With ``continuity`` > 0
    the whole path is chosen at once (Viterbi): the summed cosine plus ``continuity`` for every
    step that continues with the next identity frame. ``context`` > 0 first averages each
    pair's cosine with its diagonal neighbours (i+d, j+d), |d| <= ``context``.
    """
    al, t = model.aligner, len(faces)
    half = model.cfg.sync_frames // 2
    n_out = len(mels)
    a = al.embed_audio(mels[np.clip(np.arange(n_out) - half, 0, n_out - 1)].float())
    wins = torch.from_numpy(_centred(t, np.arange(t), half))
    vis = []
    for i in range(0, t, 64):
        stack = faces[wins[i:i + 64]].float() / 255.0  # (b, 5, 3, S, S)
        vis.append(al.embed_visual(lower_half_stack(stack)))
    cos = a @ torch.cat(vis).t()  # (n_out, T)
    if context > 0:
        cos = _diagonal_mean(cos, context)
    dist = np.abs(np.arange(t)[None, :] - src[:, None])
    far = dist >= np.minimum(exclude, dist.max(axis=1, keepdims=True))
    cos = cos.cpu().masked_fill(torch.from_numpy(~far), float("-inf"))
    if continuity <= 0:
        return cos.argmax(dim=1).numpy()
    return _best_path(cos.double().numpy(), continuity)


def _diagonal_mean(cos: torch.Tensor, k: int) -> torch.Tensor:
    """Mean of cos[i+d, j+d] over |d| <= k (only the terms inside the matrix)."""
    total, count = torch.zeros_like(cos), torch.zeros_like(cos)
    n, t = cos.shape
    for d in range(-k, k + 1):
        i0, i1, j0, j1 = max(0, -d), n - max(0, d), max(0, -d), t - max(0, d)
        if i1 <= i0 or j1 <= j0:
            continue
        total[i0:i1, j0:j1] += cos[i0 + d:i1 + d, j0 + d:j1 + d]
        count[i0:i1, j0:j1] += 1
    return total / count.clamp(min=1)


def _best_path(score: np.ndarray, bonus: float) -> np.ndarray:
    """argmax over paths j_0..j_n-1 of sum score[i, j_i] + bonus * #(j_i == j_{i-1} + 1)."""
    n, t = score.shape
    total = score[0].copy()
    back = np.zeros((n, t), dtype=np.int64)
    for i in range(1, n):
        jump = int(np.argmax(total))
        cont = np.full(t, -np.inf)
        cont[1:] = total[:-1] + bonus
        take_cont = cont > total[jump]
        back[i] = np.where(take_cont, np.arange(t) - 1, jump)
        total = np.where(take_cont, cont, total[jump]) + score[i]
    path = np.empty(n, dtype=np.int64)
    path[-1] = int(np.argmax(total))
    for i in range(n - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return path


class G4GInference:
    """Runs a trained :class:`G4GModel` over whole videos in batches (deterministic, eval mode),
    on the device its model is on (see :meth:`to`); frames come back as numpy arrays."""

    def __init__(self, model: G4GModel, batch_size: int = 32) -> None:
        self.model = model.eval()
        self.cfg = model.cfg
        self.batch_size = batch_size

    @classmethod
    def from_weights(cls, path: str | Path, batch_size: int = 32) -> G4GInference:
        """Load a weights file written by training."""
        model, _ = load_weights(path)
        return cls(model, batch_size)

    def to(self, device: str | torch.device) -> G4GInference:
        """Move the model to ``device`` (a no-op where it already is)."""
        self.model.to(device)
        return self

    @torch.no_grad()
    def generate(self, frames: np.ndarray, boxes: np.ndarray, audio: np.ndarray,
                 n_out: int, sample_rate: int | None = None,
                 fps: float | None = None) -> np.ndarray:
        """(T,H,W,3) uint8 identity frames, (T,4) boxes, mono audio -> (n_out,H,W,3) uint8.

        Audio at another ``sample_rate`` than the config's (16 kHz) is resampled; ``fps``, when
        given, must be the config's (the audio windows follow Wav2Lip's inference timing: the
        window of frame i starts at mel frame int(80 i / fps)). Identity frames shorter than
        ``n_out`` loop ping-pong. Unusable inputs raise ValueError saying what is wrong.
        """
        if fps is not None and abs(float(fps) - self.cfg.fps) > 1e-3:
            raise ValueError(f"G4G uses Wav2Lip timing at {self.cfg.fps:g} fps; got {float(fps):g} "
                             "fps (resample the video first)")
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"frames must be uint8 (T,H,W,3), got {frames.dtype} {frames.shape}")
        if len(frames) == 0:
            raise ValueError("identity video has no frames")
        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim != 1:
            raise ValueError(f"audio must be mono, got shape {audio.shape}")
        if sample_rate is not None and sample_rate != self.cfg.sample_rate:
            import librosa

            audio = librosa.resample(audio, orig_sr=sample_rate,
                                     target_sr=self.cfg.sample_rate).astype(np.float32)
        t, h, w = frames.shape[:3]
        boxes = np.asarray(boxes, dtype=np.float32)
        if len(boxes) != t:
            raise ValueError(f"{len(boxes)} face boxes for {t} frames")
        check_boxes(boxes, h, w)
        if self.cfg.steady_boxes:
            boxes = steady_boxes(boxes, h)
        if n_out < 1:
            raise ValueError("the audio is shorter than one video frame")
        audio = prepare_audio(audio, self.cfg)
        if audio.ndim != 1 or not np.isfinite(audio).all():
            raise ValueError("audio must be finite mono samples")
        device = next(self.model.parameters()).device
        mels = torch.from_numpy(frame_windows(melspectrogram(audio), n_out, self.cfg.fps,
                                              self.cfg.mel_steps))[:, None].to(device)
        src = pingpong_indices(t, n_out)
        faces = face_crops(frames, boxes, self.cfg.face_size).to(device)  # (T,3,S,S) uint8
        if self.cfg.reference_select == "aligner" and t > 1:
            ref = aligner_references(self.model, faces, mels, src,
                                     self.cfg.reference_exclude, self.cfg.reference_continuity,
                                     self.cfg.reference_context)
        else:
            ref = reference_indices(t, src)
        out = np.empty((n_out, h, w, 3), dtype=np.uint8)
        for i in range(0, n_out, self.batch_size):
            j = slice(i, min(n_out, i + self.batch_size))
            target = faces[src[j]].float() / 255.0
            refs = faces[ref[j]].float() / 255.0
            gen = self.model.faces(mask_lower_half(target), refs, mels[j].float())
            full = frames_to_tensor(frames[src[j]]).to(device)
            fused = self.model.fusion(gen, full, torch.from_numpy(boxes[src[j]]).to(device))
            out[j] = (fused * 255.0).round().clamp(0, 255).to(torch.uint8) \
                .permute(0, 2, 3, 1).cpu().numpy()
        return out

"""LSE-C / LSE-D: SyncNet audio-visual sync scores, as syncnet_python's ``evaluate``.

For every 5-frame video window and its 20-column MFCC window, the distance between the lip and
audio embeddings is taken at each offset in [-vshift, vshift] (audio embeddings zero-padded);
averaged over windows this gives ``mdist``; LSE-D = min, LSE-C = median - min, and the AV offset
is ``vshift - argmin``. Both streams run in chunked batches and all offsets in one tensor op.
"""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from bench.interfaces import SampleError
from bench.metrics.lse_inputs import SYNC_RATE, prepare_audio, prepare_frames
from bench.metrics.mfcc import mfcc
from bench.metrics.syncnet import SyncNet
from bench.metrics.syncnet_infer import FrozenSyncNet

__all__ = ["PAIRWISE_EPS", "SAMPLES_PER_FRAME", "SyncResult", "audio_embeddings", "evaluate_sync", "lip_embeddings", "score_embeddings", "sync_windows"]

PAIRWISE_EPS = 1e-6  # torch.pairwise_distance default, part of the reference score
SAMPLES_PER_FRAME = SYNC_RATE // 25  # 640 audio samples per video frame
AUDIO_CACHE_SIZE = 128  # clips; a 10 s clip at full SyncNet width takes about 1 MB


@dataclass
class SyncResult:
    """Scores of one clip: AV offset (frames), LSE-C, LSE-D and the per-window distances."""

    offset: int
    confidence: float
    min_dist: float
    dists: np.ndarray  # (windows, 2*vshift+1)
    mdist: np.ndarray  # (2*vshift+1,) mean over windows
    n_frames: int
    notes: list[str] = field(default_factory=list)


def sync_windows(n_frames: int, n_samples: int) -> tuple[int, int]:
    """(min_length, number of windows) as the reference: min_length - 5 windows."""
    min_length = min(n_frames, n_samples // SAMPLES_PER_FRAME)
    return min_length, min_length - 5


def lip_embeddings(net: FrozenSyncNet, frames: np.ndarray, n_win: int, batch: int = 32) -> torch.Tensor:
    """Lip embeddings of windows 0..n_win-1 from uint8 BGR frames (T,224,224,3)."""
    video = torch.from_numpy(frames)  # (T,224,224,3) uint8 BGR
    out = []
    for s in range(0, n_win, batch):
        e = min(n_win, s + batch)
        # (n,224,224,3,5) -> (n,224,224,15): channel = colour*5 + frame, as the folded first conv.
        win = video[s:e + 4].float().unfold(0, 5, 1)
        x = win.reshape(e - s, 224, 224, 15).permute(0, 3, 1, 2)
        out.append(net.lip(x))
    return torch.cat(out)


def audio_embeddings(net: FrozenSyncNet, audio: np.ndarray, n_win: int, batch: int = 32,
                     cache: MutableMapping[Any, torch.Tensor] | None = None) -> torch.Tensor:
    """Audio embeddings of windows 0..n_win-1 from int16 16 kHz audio.

    With ``cache`` (bounded, oldest first out) the embeddings are kept by audio content, so
    several generated videos on the same driving audio run the audio stream once.
    """
    if cache is not None:
        key = (hashlib.blake2b(np.ascontiguousarray(audio).data, digest_size=16).hexdigest(),
               str(audio.dtype), len(audio), n_win, batch)
        if key not in cache:
            cache[key] = audio_embeddings(net, audio, n_win, batch)
            while len(cache) > AUDIO_CACHE_SIZE:
                del cache[next(iter(cache))]
        return cache[key]
    cc = mfcc(audio, SYNC_RATE).T.astype(np.float32)  # (13, 4L-1)
    win = torch.from_numpy(cc).unfold(1, 20, 4)[:, :n_win].permute(1, 0, 2).unsqueeze(1)
    return torch.cat([net.aud(win[s:s + batch]) for s in range(0, n_win, batch)])


def offset_distances(lip: torch.Tensor, aud: torch.Tensor, vshift: int, chunk: int = 256) -> torch.Tensor:
    """dists[i, k] = ||lip_i - aud_{i+k-vshift} + eps|| with zero audio rows outside the clip."""
    padded = F.pad(aud, (0, 0, vshift, vshift))
    shifted = padded.unfold(0, 2 * vshift + 1, 1)  # (windows, D, offsets), a view
    return torch.cat([
        torch.linalg.vector_norm(lip[s:s + chunk, :, None] - shifted[s:s + chunk] + PAIRWISE_EPS, dim=1)
        for s in range(0, lip.shape[0], chunk)
    ])


def evaluate_sync(model: SyncNet | FrozenSyncNet, frames: np.ndarray, audio: np.ndarray,
                  fps: float = 25.0, sample_rate: int = SYNC_RATE, vshift: int = 15,
                  resize: bool = True, batch_size: int = 32, name: str = "clip",
                  audio_cache: MutableMapping[Any, torch.Tensor] | None = None) -> SyncResult:
    """Score one clip: ``frames`` uint8 BGR (T,H,W,3), ``audio`` int16 (or float [-1,1]) mono.

    Raises :class:`SampleError` on unusable input (too short, NaN, wrong shape); conversions
    that were applied (fps, size, channels, audio scale, length mismatch) are in ``notes``.
    """
    if vshift < 0:
        raise ValueError(f"vshift must be >= 0, got {vshift}")
    frames, notes = prepare_frames(frames, fps, resize=resize, name=name)
    audio, anotes = prepare_audio(audio, sample_rate, name=name)
    notes += anotes
    n_audio_frames = len(audio) // SAMPLES_PER_FRAME
    min_length, n_win = sync_windows(len(frames), len(audio))
    if n_win < 1:
        raise SampleError(
            f"{name}: audio and video overlap for {min_length} frames "
            f"({len(frames)} video frames, audio for {n_audio_frames}); LSE needs at least 6"
        )
    if len(frames) != n_audio_frames:
        notes.append(f"length mismatch: {len(frames)} video frames, audio for {n_audio_frames}; "
                     f"used the first {min_length}")
    net = model if isinstance(model, FrozenSyncNet) else FrozenSyncNet(model)
    lip = lip_embeddings(net, frames[:min_length], n_win, batch_size)
    aud = audio_embeddings(net, audio[:min_length * SAMPLES_PER_FRAME], n_win, batch_size,
                           cache=audio_cache)
    return score_embeddings(lip, aud, vshift, min_length, notes)


def score_embeddings(lip: torch.Tensor, aud: torch.Tensor, vshift: int, n_frames: int = 0,
                     notes: list[str] | None = None) -> SyncResult:
    """Offset, LSE-C and LSE-D from per-window lip and audio embeddings (the reference scores)."""
    dists = offset_distances(lip, aud, vshift)
    mdist = dists.mean(0)
    minval, minidx = torch.min(mdist, 0)
    conf = torch.median(mdist) - minval
    return SyncResult(
        offset=int(vshift - minidx), confidence=float(conf), min_dist=float(minval),
        dists=dists.numpy(), mdist=mdist.numpy(), n_frames=n_frames, notes=list(notes or []),
    )

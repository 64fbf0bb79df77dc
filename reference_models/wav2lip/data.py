"""Training windows for Wav2Lip, cut from in-memory face crops and mel spectrograms.

A :class:`FaceVideo` is one video already cropped to square faces (T, S, S, 3) uint8 plus its
mel spectrogram (80, M) from :func:`reference_models.wav2lip.audio.melspectrogram`. Sampling
follows Wav2Lip's data loaders: 5-frame windows, the 16-step mel window starting at the first
frame, negatives shifted in time within the same video, references from another window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reference_models.wav2lip.audio import SYNC_STEPS, window_start

SYNC_T = 5  # frames per window (0.2 s at 25 fps)


@dataclass(frozen=True)
class FaceVideo:
    """Face crops (T, S, S, 3) uint8 RGB and their mel spectrogram (80, M), at ``fps``."""

    faces: np.ndarray
    mel: np.ndarray
    fps: float = 25.0
    name: str = ""

    def __post_init__(self) -> None:
        f, m = self.faces, self.mel
        if f.ndim != 4 or f.shape[-1] != 3 or f.shape[1] != f.shape[2] or f.dtype != np.uint8:
            raise ValueError(f"video {self.name!r}: faces must be uint8 (T, S, S, 3), got {f.dtype} {f.shape}")
        if m.ndim != 2:
            raise ValueError(f"video {self.name!r}: mel must be (n_mels, M), got {m.shape}")

    def usable_starts(self, offset: int = 0) -> np.ndarray:
        """Window starts t with 5 frames and every needed mel window inside the video."""
        t_max = len(self.faces) - SYNC_T
        starts = [
            t
            for t in range(max(0, -offset), t_max + 1)
            if window_start(t + SYNC_T - 1 + offset, self.fps) + SYNC_STEPS <= self.mel.shape[1]
        ]
        return np.asarray(starts, dtype=int)


def _mel_at(video: FaceVideo, frame: int) -> np.ndarray:
    s = window_start(frame, video.fps)
    return video.mel[:, s : s + SYNC_STEPS]


def lower_half_faces(video: FaceVideo, start: int) -> np.ndarray:
    """The lower halves of frames start..start+4, stacked as the expert reads them: (15, S/2, S)."""
    window = _to_float(video.faces[start : start + SYNC_T])  # (3, 5, S, S)
    lower = window[:, :, window.shape[2] // 2 :]
    return lower.transpose(1, 0, 2, 3).reshape(-1, *lower.shape[2:])


def shifted_mels(video: FaceVideo, start: int, max_shift: int) -> np.ndarray:
    """The mel windows of frames start-D..start+D (D = ``max_shift``): (2D+1, 1, 80, 16)."""
    return np.stack([_mel_at(video, start + k)[None] for k in range(-max_shift, max_shift + 1)])


def _to_float(frames: np.ndarray) -> np.ndarray:
    # (T, S, S, 3) uint8 -> (3, T, S, S) float32 in [0, 1]
    return np.ascontiguousarray(frames.transpose(3, 0, 1, 2), dtype=np.float32) / 255.0


class WindowSampler:
    """Draws training batches from a list of :class:`FaceVideo`, reproducibly from an rng."""

    def __init__(self, videos: Sequence[FaceVideo]):
        # The generator needs the window of frame t-1 (Wav2Lip's offset), hence offset -1.
        self.videos = [v for v in videos if len(v.usable_starts(offset=-1)) >= 2]
        if not self.videos:
            raise ValueError("no video is long enough for two 5-frame windows with audio")
        self._starts = [v.usable_starts(offset=-1) for v in self.videos]
        self._pools: dict[int, list[tuple[FaceVideo, np.ndarray]]] = {}

    def _pick(self, rng: np.random.Generator) -> tuple[FaceVideo, int, int]:
        i = int(rng.integers(len(self.videos)))
        starts = self._starts[i]
        t, wrong = rng.choice(starts, size=2, replace=False)
        return self.videos[i], int(t), int(wrong)

    def sync_batch(self, rng: np.random.Generator, batch: int) -> dict[str, np.ndarray]:
        """Expert batch: faces (B, 15, S/2, S) lower halves, mels (B, 1, 80, 16), labels (B, 1).

        Half the pairs are synced (faces from the mel's own window), the rest take the faces of
        another window of the same video.
        """
        faces, mels, labels = [], [], []
        for _ in range(batch):
            video, t, wrong = self._pick(rng)
            y = float(rng.random() < 0.5)
            faces.append(lower_half_faces(video, t if y else wrong))
            mels.append(_mel_at(video, t)[None])
            labels.append([y])
        return {
            "faces": np.stack(faces),
            "mel": np.stack(mels).astype(np.float32),
            "label": np.asarray(labels, np.float32),
        }

    def offset_batch(self, rng: np.random.Generator, batch: int,
                     max_shift: int) -> dict[str, np.ndarray]:
        """Offset batch: faces (B, 15, S/2, S) lower halves of the window at t, mels
        (B, 2D+1, 1, 80, 16) the audio windows at frames t-D..t+D (D = ``max_shift``); the
        synced one is at index D."""
        pool = self.shift_pool(max_shift)
        faces, mels = [], []
        for _ in range(batch):
            video, starts = pool[int(rng.integers(len(pool)))]
            t = int(rng.choice(starts))
            faces.append(lower_half_faces(video, t))
            mels.append(shifted_mels(video, t, max_shift))
        return {"faces": np.stack(faces), "mels": np.stack(mels).astype(np.float32)}

    def shift_pool(self, max_shift: int) -> list[tuple[FaceVideo, np.ndarray]]:
        """(video, window starts whose audio windows at -D..D frames all exist), non-empty."""
        if max_shift not in self._pools:
            pool = []
            for video, starts in zip(self.videos, self._starts):
                last = len(video.faces) - SYNC_T
                ok = [(max_shift <= t <= last - max_shift and window_start(t + max_shift, video.fps)
                       + SYNC_STEPS <= video.mel.shape[1]) for t in starts]
                if any(ok):
                    pool.append((video, starts[np.asarray(ok, dtype=bool)]))
            if not pool:
                raise ValueError(f"no video is long enough for audio offsets of +-{max_shift} "
                                 "frames around a 5-frame window")
            self._pools[max_shift] = pool
        return self._pools[max_shift]

    def generator_batch(self, rng: np.random.Generator, batch: int) -> dict[str, np.ndarray]:
        """Generator batch: inputs (B, 6, 5, S, S), per-frame mels (B, 5, 1, 80, 16),
        window mel (B, 1, 80, 16) and targets (B, 3, 5, S, S)."""
        inputs, frame_mels, mels, targets = [], [], [], []
        for _ in range(batch):
            video, t, wrong = self._pick(rng)
            target = _to_float(video.faces[t : t + SYNC_T])
            reference = _to_float(video.faces[wrong : wrong + SYNC_T])
            masked = target.copy()
            masked[:, :, masked.shape[2] // 2 :] = 0.0
            inputs.append(np.concatenate([masked, reference], axis=0))
            # Wav2Lip's training offset: frame k is paired with the window starting at frame k-1.
            frame_mels.append(np.stack([_mel_at(video, t + k - 1)[None] for k in range(SYNC_T)]))
            mels.append(_mel_at(video, t)[None])
            targets.append(target)
        return {
            "inputs": np.stack(inputs),
            "frame_mels": np.stack(frame_mels).astype(np.float32),
            "mel": np.stack(mels).astype(np.float32),
            "target": np.stack(targets),
        }

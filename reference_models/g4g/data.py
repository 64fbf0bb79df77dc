"""Training data from plain arrays: frames, face boxes and 16 kHz audio per video.

Face crops and mel spectrograms are computed once; batches are drawn with a numpy Generator so a
seeded run draws the same batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from reference_models.g4g.alignment import lower_half_stack
from reference_models.g4g.configs import G4GConfig
from reference_models.g4g.geometry import check_boxes, crop_faces
from reference_models.wav2lip.faces import steady_boxes
from reference_models.wav2lip.audio import frame_windows, melspectrogram, window_start


@dataclass
class VideoArrays:
    """One training video: uint8 RGB frames (T,H,W,3), boxes (T,4) x0,y0,x1,y1, mono audio."""

    name: str
    frames: np.ndarray
    boxes: np.ndarray
    audio: np.ndarray
    identity: str = ""  # videos of one face share it; "" (unknown): a face of its own


def prepare_audio(audio: np.ndarray, cfg: G4GConfig) -> np.ndarray:
    """Float32 mono audio, peak-normalised when the config asks for it."""
    audio = np.asarray(audio, dtype=np.float32)
    if cfg.audio_peak_norm:
        peak = float(np.abs(audio).max()) if audio.size else 0.0
        if peak > 1e-4:
            audio = audio * (0.95 / peak)
    return audio


def uint8_tensor(frames: np.ndarray) -> torch.Tensor:
    """(T,H,W,3) uint8 -> (T,3,H,W) uint8 tensor; read-only inputs (a dataset's shared frames)
    are copied, as torch shares memory only with writable arrays."""
    frames = np.asarray(frames)
    if not (frames.flags.writeable and frames.flags.c_contiguous):
        frames = np.array(frames, order="C")
    return torch.from_numpy(frames).permute(0, 3, 1, 2)


def frames_to_tensor(frames: np.ndarray) -> torch.Tensor:
    """(T,H,W,3) uint8 -> (T,3,H,W) float in [0, 1]."""
    return uint8_tensor(frames).float() / 255.0


def face_crops(frames: np.ndarray, boxes: np.ndarray, size: int, chunk: int = 64) -> torch.Tensor:
    """(T,H,W,3) uint8 frames -> (T,3,size,size) uint8 crops of the face boxes."""
    out = []
    for i in range(0, len(frames), chunk):
        f = frames_to_tensor(frames[i:i + chunk])
        b = torch.as_tensor(boxes[i:i + chunk], dtype=torch.float32)
        out.append((crop_faces(f, b, size) * 255.0).round().clamp(0, 255).to(torch.uint8))
    return torch.cat(out)


class TalkingFaceArrays:
    """Videos prepared for both training stages (alignment pairs and generator windows)."""

    def __init__(self, videos: Sequence[VideoArrays], cfg: G4GConfig) -> None:
        self.cfg = cfg
        self.names, self.frames, self.boxes, self.faces, self.mels, self.frame_mels = \
            [], [], [], [], [], []
        self.n_windows: list[int] = []
        # per video, the reference frame of every frame (set by the trainer when training
        # references are chosen by the aligner); None: a random other window
        self.ref_choice: list[np.ndarray] | None = None
        # "aligner-mixed": per video, another video of the same face and the aligner's pick from
        # its frames for every frame of this one (None: that video has no other clip)
        self.cross_choice: list[tuple[int, np.ndarray] | None] | None = None
        self.identities: list[str] = []
        for v in videos:
            self._add(v)
        if not self.names:
            raise ValueError("no usable training videos (each needs at least "
                             f"{cfg.sync_frames} frames and matching audio)")

    def _add(self, v: VideoArrays) -> None:
        cfg = self.cfg
        frames = np.asarray(v.frames)
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"{v.name}: frames must be uint8 (T,H,W,3), got "
                             f"{frames.dtype} {frames.shape}")
        check_boxes(v.boxes, frames.shape[1], frames.shape[2])
        if len(v.boxes) != len(frames):
            raise ValueError(f"{v.name}: {len(v.boxes)} boxes for {len(frames)} frames")
        boxes = np.asarray(v.boxes, dtype=np.float32)
        if cfg.steady_boxes:
            boxes = steady_boxes(boxes, frames.shape[1])
        audio = prepare_audio(v.audio, cfg)
        if audio.ndim != 1 or audio.size < cfg.sample_rate // 5:
            raise ValueError(f"{v.name}: need mono audio of at least 0.2 s, got {audio.shape}")
        mel = melspectrogram(audio)
        # sync windows: sync_frames frames from k, mel_steps mel frames from window_start(k)
        n = 0
        while (n + cfg.sync_frames <= len(frames)
               and window_start(n, cfg.fps) + cfg.mel_steps <= mel.shape[1]):
            n += 1
        if n == 0:
            return
        self.names.append(v.name)
        self.identities.append(v.identity or f"\0{v.name}")
        self.frames.append(uint8_tensor(frames))
        self.boxes.append(torch.as_tensor(boxes))
        self.faces.append(face_crops(frames, boxes, cfg.face_size))
        self.mels.append(torch.from_numpy(mel))
        self.frame_mels.append(torch.from_numpy(frame_windows(mel, len(frames), cfg.fps,
                                                              cfg.mel_steps)))
        self.n_windows.append(n)

    def __len__(self) -> int:
        return len(self.names)

    def partner(self, vid: int, rng: np.random.Generator) -> int | None:
        """A random other video of the same face as ``vid`` (None if it has none)."""
        same = [u for u, ident in enumerate(self.identities)
                if ident == self.identities[vid] and u != vid]
        return int(rng.choice(same)) if same else None

    def _sync_mel(self, vid: int, k: int) -> torch.Tensor:
        s = window_start(k, self.cfg.fps)
        return self.mels[vid][:, s:s + self.cfg.mel_steps]

    def _starts(self, rng: np.random.Generator, vid: int, count: int) -> list[int]:
        """``count`` window starts of one video, at least sync_frames apart when possible."""
        n, t = self.n_windows[vid], self.cfg.sync_frames
        starts: list[int] = []
        for _ in range(count):
            for _try in range(20):
                k = int(rng.integers(n))
                if all(abs(k - s) >= t for s in starts):
                    break
            starts.append(k)
        return starts

    def sync_batch(self, rng: np.random.Generator, n_clips: int, per_clip: int
                   ) -> tuple[torch.Tensor, torch.Tensor]:
        """Synced pairs: mel windows (B,1,n_mels,steps) and lower faces (B,3T,S/2,S) in [0,1].

        Several windows per clip put time-shifted negatives of the same face in the batch.
        """
        vids = rng.choice(len(self), size=n_clips, replace=n_clips > len(self))
        mels, faces = [], []
        t = self.cfg.sync_frames
        for vid in vids:
            for k in self._starts(rng, int(vid), per_clip):
                mels.append(self._sync_mel(int(vid), k))
                faces.append(self.faces[vid][k:k + t])
        mel = torch.stack(mels)[:, None].float()
        face = torch.stack(faces).float() / 255.0
        return mel, lower_half_stack(face)

    def clip_windows(self, vid: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Every synced window of one video: mels (n,1,n_mels,steps), lower faces (n,3T,S/2,S)."""
        t, n = self.cfg.sync_frames, self.n_windows[vid]
        mel = torch.stack([self._sync_mel(vid, k) for k in range(n)])[:, None].float()
        faces = self.faces[vid].float() / 255.0
        stack = torch.stack([faces[k:k + t] for k in range(n)])
        return mel, lower_half_stack(stack)

    def gen_batch(self, rng: np.random.Generator, n: int) -> dict[str, torch.Tensor]:
        """Generator windows of sync_frames consecutive frames from ``n`` distinct videos.

        Keys: ``faces``/``refs`` (n,T,3,S,S) in [0,1], ``frame_mels`` (n,T,1,n_mels,steps),
        ``sync_mel`` (n,1,n_mels,steps), ``frames`` (n,T,3,H,W) in [0,1], ``boxes`` (n,T,4).
        References come from another window of the same video (a pose prior, as in Wav2Lip).
        """
        vids = rng.choice(len(self), size=n, replace=n > len(self))
        t = self.cfg.sync_frames
        out: dict[str, list[torch.Tensor]] = {k: [] for k in
                                              ("faces", "refs", "frame_mels", "sync_mel",
                                               "frames", "boxes")}
        for vid in vids:
            vid = int(vid)
            k, r = self._starts(rng, vid, 2)
            out["faces"].append(self.faces[vid][k:k + t])
            cross = self.cross_choice[vid] if self.cross_choice is not None else None
            if cross is not None and rng.random() < 0.5:
                other, choice = cross
                out["refs"].append(self.faces[other][choice[k:k + t]])
            elif self.ref_choice is None:
                out["refs"].append(self.faces[vid][r:r + t])
            else:
                out["refs"].append(self.faces[vid][self.ref_choice[vid][k:k + t]])
            out["frame_mels"].append(self.frame_mels[vid][k:k + t, None])
            out["sync_mel"].append(self._sync_mel(vid, k)[None])
            out["frames"].append(self.frames[vid][k:k + t])
            out["boxes"].append(self.boxes[vid][k:k + t])
        batch = {key: torch.stack(val) for key, val in out.items()}
        for key in ("faces", "refs", "frames"):
            batch[key] = batch[key].float() / 255.0
        batch["frame_mels"] = batch["frame_mels"].float()
        batch["sync_mel"] = batch["sync_mel"].float()
        return batch

"""Wav2Lip inference on a whole video: crop faces, generate 96x96 mouths, paste them back.

Works on plain arrays so it can be used without the benchmark harness.
"""

from __future__ import annotations

import librosa
import numpy as np
import torch

from reference_models.wav2lip.audio import frame_windows, melspectrogram
from reference_models.wav2lip.faces import (
    FACE_SIZE,
    clip_box,
    crop_faces,
    paste_face,
    ping_pong,
    reference_indices,
    steady_boxes,
)
from reference_models.wav2lip.models import Wav2Lip

__all__ = ["clip_box", "crop_faces", "lip_sync", "ping_pong", "prepare_audio", "reference_indices"]



def prepare_audio(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 audio at 16 kHz (resampled if needed)."""
    audio = np.asarray(audio, dtype=np.float32)
    if sample_rate != 16000:
        audio = librosa.resample(audio, orig_sr=sample_rate, target_sr=16000)
    return audio


@torch.no_grad()
def lip_sync(
    model: Wav2Lip,
    frames: np.ndarray,
    boxes: np.ndarray,
    audio: np.ndarray,
    n_out: int,
    fps: float = 25.0,
    sample_rate: int = 16000,
    batch_size: int = 32,
    audio_offset: int = -1,
    steady: bool = False,
) -> np.ndarray:
    """Generate ``n_out`` lip-synced frames (n_out, H, W, 3) uint8 from identity frames and audio.

    Each output frame i uses identity frame ``ping_pong(T, n_out)[i]`` with its lower half
    masked, a reference from another window of the video, and the mel window starting at frame
    ``i + audio_offset``. -1 is the pairing the generator is trained with (frame k with the
    window starting at frame k-1, as in the authors' training code); 0 is the authors'
    ``inference.py``, whose mouths then run a frame ahead of the audio. ``steady`` crops and
    pastes with :func:`steady_boxes` (one aspect ratio per clip), so the box's height does not
    carry the identity video's jaw motion. The model runs on the device its parameters are on.
    """
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 (T, H, W, 3), got {frames.dtype} {frames.shape}")
    if len(boxes) != len(frames):
        raise ValueError(f"{len(boxes)} face boxes for {len(frames)} frames")
    h, w = frames.shape[1:3]
    if n_out == 0:
        return np.zeros((0, h, w, 3), dtype=np.uint8)
    if steady:
        boxes = steady_boxes(boxes, h)
    wav = prepare_audio(audio, sample_rate)
    mels = frame_windows(melspectrogram(wav), n_out, fps=fps, offset=audio_offset)  # (n_out, 80, 16)
    faces = crop_faces(frames, boxes)
    refs = faces[reference_indices(len(frames))]
    src = ping_pong(len(frames), n_out)
    model.eval()
    device = next(model.parameters()).device
    out = frames[src].copy()
    for start in range(0, n_out, batch_size):
        idx = src[start : start + batch_size]
        target = faces[idx].astype(np.float32) / 255.0
        target[:, FACE_SIZE // 2 :] = 0.0
        x = np.concatenate([target, refs[idx].astype(np.float32) / 255.0], axis=-1)
        x = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous().to(device)
        m = torch.from_numpy(mels[start : start + batch_size]).unsqueeze(1).to(device)
        pred = model(m, x).permute(0, 2, 3, 1).cpu().numpy()
        pred = np.clip(np.rint(pred * 255.0), 0, 255).astype(np.uint8)
        for j, face in enumerate(pred):
            out[start + j] = paste_face(out[start + j], face, boxes[idx[j]])
    return out

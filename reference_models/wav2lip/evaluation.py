"""How well a lip-sync expert finds the synced audio on held-out videos."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from reference_models.wav2lip.data import FaceVideo, WindowSampler, _mel_at, _to_float
from reference_models.wav2lip.models import SyncNetColor


@torch.no_grad()
def offset_recovery(expert: SyncNetColor, videos: Sequence[FaceVideo], max_shift: int = 6,
                    batch: int = 64) -> dict[str, float]:
    """Offset recovery over every usable window of ``videos``, audio shifted -D..D frames.

    ``window``: share of face windows whose best-matching audio window (highest cosine) is the
    synced one; ``clip``: share of videos where the cosine averaged over all their windows is
    highest at offset 0 (what LSE reads); ``chance_window``: 1 / (2D+1).
    """
    expert.eval()
    pool = WindowSampler(videos)._shift_pool(max_shift)
    shifts = range(-max_shift, max_shift + 1)
    hits = trials = clip_hits = 0
    for video, starts in pool:
        cos = []
        for i in range(0, len(starts), batch):
            ts = starts[i:i + batch]
            faces = []
            for t in ts:
                lower = _to_float(video.faces[t:t + 5])[:, :, video.faces.shape[1] // 2:]
                faces.append(lower.transpose(1, 0, 2, 3).reshape(-1, *lower.shape[2:]))
            mels = np.stack([[_mel_at(video, t + k)[None] for k in shifts] for t in ts])
            v = F.normalize(expert.face_encoder(torch.from_numpy(np.stack(faces))).flatten(1), dim=1)
            m = torch.from_numpy(mels.astype(np.float32)).flatten(0, 1)
            a = F.normalize(expert.audio_encoder(m).flatten(1), dim=1).reshape(len(ts), len(shifts), -1)
            cos.append((a * v[:, None]).sum(-1))
        c = torch.cat(cos)  # (windows, 2D+1)
        hits += int((c.argmax(1) == max_shift).sum())
        trials += len(c)
        clip_hits += int(c.mean(0).argmax() == max_shift)
    return {"window": hits / trials, "clip": clip_hits / len(pool),
            "chance_window": 1 / len(shifts), "windows": trials, "videos": len(pool)}

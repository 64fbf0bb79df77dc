"""How well a lip-sync expert finds the synced audio on held-out videos."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from reference_models.wav2lip.data import (
    FaceVideo,
    WindowSampler,
    lower_half_faces,
    shifted_mels,
)
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
    pool = WindowSampler(videos).shift_pool(max_shift)
    n = 2 * max_shift + 1
    hits = trials = clip_hits = 0
    for video, starts in pool:
        cos = []
        for i in range(0, len(starts), batch):
            ts = starts[i:i + batch]
            v = expert.embed_faces(torch.from_numpy(np.stack([lower_half_faces(video, t) for t in ts])))
            mels = np.stack([shifted_mels(video, t, max_shift) for t in ts])  # (b, n, 1, 80, 16)
            a = expert.embed_audio(torch.from_numpy(mels.astype(np.float32)).flatten(0, 1))
            cos.append((a.reshape(len(ts), n, -1) * v[:, None]).sum(-1))
        c = torch.cat(cos)  # (windows, 2D+1)
        hits += int((c.argmax(1) == max_shift).sum())
        trials += len(c)
        clip_hits += int(c.mean(0).argmax() == max_shift)
    return {"window": hits / trials, "clip": clip_hits / len(pool),
            "chance_window": 1 / n, "windows": trials, "videos": len(pool)}

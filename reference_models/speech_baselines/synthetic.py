"""Toy voiced / voiceless segments for smoke tests and timing (not a benchmark corpus)."""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16000


def toy_segments(
    n: int, seed: int, min_length: int = 800, max_length: int = 2400
) -> tuple[list[np.ndarray], np.ndarray]:
    """Alternating voiced (5 harmonics of f0 in 90-260 Hz, light noise) and voiceless (white or
    first-differenced noise) float32 segments with random peak amplitude; labels 1 / 0."""
    rng = np.random.default_rng(seed)
    waves, labels = [], []
    for i in range(n):
        length = int(rng.integers(min_length, max_length))
        if i % 2 == 0:
            t = np.arange(length) / SAMPLE_RATE
            f0 = rng.uniform(90, 260)
            w = sum(
                rng.uniform(0.2, 1) / k * np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 6))
                for k in range(1, 6)
            )
            w = w + 0.02 * rng.standard_normal(length)
        else:
            w = rng.standard_normal(length)
            if rng.random() < 0.5:
                w = np.diff(w, prepend=0.0)
        waves.append((rng.uniform(0.05, 0.8) * w / np.abs(w).max()).astype(np.float32))
        labels.append(1 - i % 2)
    return waves, np.array(labels)

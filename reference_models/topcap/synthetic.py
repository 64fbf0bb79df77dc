"""Synthetic voiced-like and voiceless-like 16 kHz segments for tests, benchmarks and smoke runs.

Voiced-like: a glottal pulse train (f0 100-250 Hz, 1 % period jitter, 5 % shimmer) through three
formant resonators. Voiceless-like: high-passed noise (frication). Durations 50-150 ms. Both get
a rise-and-fall envelope, as a consonant cut from running speech has; the authors' pitch
heuristic relies on the segment ends being quieter than its middle. Voiced segments are louder
(peak 0.2-0.6 against 0.05-0.25), as sonorants are against voiceless fricatives in speech; the
features are not amplitude-normalised, so this matters.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, lfilter, sosfilt

SAMPLE_RATE = 16000
FORMANTS = ((500.0, 80.0), (1500.0, 120.0), (2500.0, 200.0))  # (centre Hz, bandwidth Hz)


def envelope(n: int) -> np.ndarray:
    """Hann rise and fall with a small floor, so the ends are quiet but not silent."""
    return 0.05 + 0.95 * np.hanning(n)


def _duration(rng: np.random.Generator, duration: float | None) -> int:
    return int(SAMPLE_RATE * (duration if duration is not None else rng.uniform(0.05, 0.15)))


def voiced_like(rng: np.random.Generator, duration: float | None = None) -> np.ndarray:
    """One harmonic segment (float64, 16 kHz) with random f0, length and peak amplitude 0.2-0.6."""
    n = _duration(rng, duration)
    f0 = rng.uniform(100.0, 250.0)
    pulses = np.zeros(n)
    pos = 0.0
    while pos < n:
        pulses[int(pos)] += 1.0 + rng.normal(0.0, 0.05)
        pos += SAMPLE_RATE / f0 * (1.0 + rng.normal(0.0, 0.01))
    sig = pulses
    for centre, bandwidth in FORMANTS:
        r = np.exp(-np.pi * bandwidth / SAMPLE_RATE)
        theta = 2 * np.pi * centre / SAMPLE_RATE
        sig = lfilter([1.0 - r], [1.0, -2.0 * r * np.cos(theta), r * r], sig)
    sig = sig * envelope(n)
    sig = sig / np.max(np.abs(sig)) * rng.uniform(0.2, 0.6)
    return sig + rng.normal(0.0, 0.003, n)


def voiceless_like(rng: np.random.Generator, duration: float | None = None) -> np.ndarray:
    """One noise segment (float64, 16 kHz), high-passed like a fricative, peak 0.05-0.25."""
    n = _duration(rng, duration)
    cutoff = rng.uniform(1500.0, 4000.0)
    sos = butter(4, cutoff, btype="highpass", fs=SAMPLE_RATE, output="sos")
    sig = sosfilt(sos, rng.normal(0.0, 1.0, n)) * envelope(n)
    return sig / np.max(np.abs(sig)) * rng.uniform(0.05, 0.25)


def make_segments(n_per_class: int, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Shuffled voiced (label 1) and voiceless (label 0) segments, reproducible under ``seed``."""
    rng = np.random.default_rng(seed)
    signals = [voiced_like(rng) for _ in range(n_per_class)]
    signals += [voiceless_like(rng) for _ in range(n_per_class)]
    labels = np.array([1] * n_per_class + [0] * n_per_class)
    order = rng.permutation(len(signals))
    return [signals[i] for i in order], labels[order]

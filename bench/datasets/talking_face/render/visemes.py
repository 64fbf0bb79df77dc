"""Viseme table over ARPAbet phones and the per-frame mouth-parameter track with coarticulation."""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

# Mouth parameters, each in [0, 1]:
#   open   jaw/lip opening (0 = lips together)
#   width  lip spread (0 = narrow, 1 = wide smile-like spread)
#   round  lip rounding/protrusion
#   teeth  how much of the upper teeth shows
#   tongue how visible the tongue tip is
PARAMS = ("open", "width", "round", "teeth", "tongue")

REST = (0.0, 0.45, 0.1, 0.0, 0.0)

VISEMES: dict[str, tuple[float, float, float, float, float]] = {
    # silence and pauses
    "SIL": REST, "SP": REST, "SPN": REST, "": REST,
    # bilabials: lips pressed together
    "P": (0.0, 0.45, 0.15, 0.0, 0.0), "B": (0.0, 0.45, 0.15, 0.0, 0.0),
    "M": (0.0, 0.45, 0.15, 0.0, 0.0),
    # labiodentals: upper teeth on the lower lip
    "F": (0.12, 0.55, 0.0, 1.0, 0.0), "V": (0.12, 0.55, 0.0, 1.0, 0.0),
    # dentals: tongue between the teeth
    "TH": (0.22, 0.55, 0.0, 0.8, 1.0), "DH": (0.22, 0.55, 0.0, 0.8, 1.0),
    # alveolars
    "T": (0.22, 0.6, 0.0, 0.9, 0.5), "D": (0.22, 0.6, 0.0, 0.9, 0.5),
    "N": (0.2, 0.6, 0.0, 0.8, 0.5), "L": (0.28, 0.6, 0.0, 0.7, 0.8),
    "S": (0.14, 0.65, 0.0, 1.0, 0.0), "Z": (0.14, 0.65, 0.0, 1.0, 0.0),
    # TIMIT/extended ARPAbet extras: flap, glottal stop, syllabic consonants, reduced vowels
    "DX": (0.22, 0.6, 0.0, 0.8, 0.5), "Q": (0.3, 0.55, 0.0, 0.4, 0.0),
    "NX": (0.2, 0.6, 0.0, 0.8, 0.5), "EL": (0.28, 0.6, 0.0, 0.7, 0.8),
    "EM": (0.0, 0.45, 0.15, 0.0, 0.0), "EN": (0.2, 0.6, 0.0, 0.8, 0.5),
    "AX": (0.5, 0.55, 0.05, 0.5, 0.2), "AXR": (0.38, 0.4, 0.45, 0.5, 0.1),
    "IX": (0.35, 0.75, 0.0, 0.8, 0.2), "UX": (0.3, 0.25, 0.8, 0.3, 0.1),
    # post-alveolars: slightly rounded
    "SH": (0.22, 0.35, 0.65, 0.9, 0.0), "ZH": (0.22, 0.35, 0.65, 0.9, 0.0),
    "CH": (0.22, 0.35, 0.6, 0.9, 0.2), "JH": (0.22, 0.35, 0.6, 0.9, 0.2),
    # velars and glottal
    "K": (0.32, 0.55, 0.0, 0.5, 0.1), "G": (0.32, 0.55, 0.0, 0.5, 0.1),
    "NG": (0.28, 0.55, 0.0, 0.5, 0.1), "HH": (0.4, 0.55, 0.0, 0.4, 0.1),
    # approximants
    "R": (0.22, 0.35, 0.55, 0.4, 0.2), "W": (0.12, 0.15, 0.95, 0.0, 0.0),
    "Y": (0.2, 0.7, 0.0, 0.7, 0.2),
    # vowels: open vowels wide, close vowels narrow, rounded vowels narrow and protruded
    "AA": (1.0, 0.6, 0.05, 0.5, 0.2), "AE": (0.85, 0.8, 0.0, 0.7, 0.2),
    "AH": (0.65, 0.55, 0.05, 0.5, 0.2), "AO": (0.8, 0.35, 0.65, 0.4, 0.1),
    "AW": (0.8, 0.45, 0.45, 0.4, 0.1), "AY": (0.8, 0.7, 0.0, 0.6, 0.2),
    "EH": (0.6, 0.75, 0.0, 0.7, 0.2), "ER": (0.38, 0.4, 0.45, 0.5, 0.1),
    "EY": (0.52, 0.8, 0.0, 0.7, 0.2), "IH": (0.38, 0.8, 0.0, 0.8, 0.2),
    "IY": (0.28, 0.95, 0.0, 0.9, 0.1), "OW": (0.58, 0.25, 0.85, 0.3, 0.1),
    "OY": (0.62, 0.35, 0.6, 0.4, 0.1), "UH": (0.4, 0.3, 0.7, 0.3, 0.1),
    "UW": (0.3, 0.15, 1.0, 0.2, 0.0),
}

BILABIALS = frozenset({"P", "B", "M", "EM"})
VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY",
                    "UH", "UW", "AX", "AXR", "IX", "UX"})
SILENCES = frozenset({"SIL", "SP", "SPN", ""})

# Coarticulation: Gaussian smoothing of the 100 Hz parameter track (s).
COARTICULATION_SIGMA_S = 0.018
_TRACK_RATE = 200.0
# Bilabial closure ramp (s): how fast the lips close into and open out of P/B/M.
BILABIAL_RAMP_S = 0.008


def base_label(label: str) -> str:
    """ARPAbet label without stress digits, upper-case ("aa1" -> "AA")."""
    return label.strip().upper().rstrip("012")


def viseme(label: str) -> tuple[float, float, float, float, float]:
    """Mouth parameters for one phone; unknown labels raise ValueError."""
    key = base_label(label)
    if key not in VISEMES:
        raise ValueError(f"no viseme for phone {label!r}")
    return VISEMES[key]


def _phone_fields(phone) -> tuple[str, float, float]:
    """(label, start s, end s) from a Phone-like object (start/end or start_s/end_s) or a tuple."""
    if hasattr(phone, "label"):
        start = getattr(phone, "start", None)
        end = getattr(phone, "end", None)
        if start is None:
            start, end = phone.start_s, phone.end_s
        return phone.label, float(start), float(end)
    label, start, end = phone
    return label, float(start), float(end)


def _smooth(track: np.ndarray, sigma_s: float) -> np.ndarray:
    """Gaussian smoothing along time (axis 0) of a 200 Hz track, edges held."""
    if sigma_s <= 0 or len(track) < 2:
        return track
    radius = int(np.ceil(3 * sigma_s * _TRACK_RATE))
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / (sigma_s * _TRACK_RATE)) ** 2)
    k /= k.sum()
    padded = np.pad(track, ((radius, radius), (0, 0)), mode="edge")
    return np.stack([np.convolve(padded[:, j], k, mode="valid") for j in range(track.shape[1])], 1)


def mouth_track(phones: Iterable, n_frames: int, fps: float = 25.0,
                sigma_s: float = COARTICULATION_SIGMA_S) -> np.ndarray:
    """Per-frame mouth parameters (n_frames, 5) float32 from timed phones.

    ``phones`` holds objects with ``label``, ``start``, ``end`` seconds (or tuples); time
    not covered by a phone is silence. The track is sampled at 200 Hz and smoothed with a
    Gaussian (coarticulation: neighbouring phones blend). Bilabials dominate their neighbours:
    the lips close during them even when they are short, as in speech, so their closure is
    applied after smoothing with a much shorter ramp. Each frame shows the mean over the middle
    half of its interval (a 20 ms shutter at 25 fps).
    """
    per_frame = int(round(_TRACK_RATE / fps))
    n = n_frames * per_frame
    track = np.tile(np.asarray(REST, np.float32), (n, 1))
    closure = np.zeros((n, 1), np.float32)
    t = (np.arange(n) + 0.5) / _TRACK_RATE
    for phone in phones:
        label, start, end = _phone_fields(phone)
        sel = (t >= start) & (t < end)
        track[sel] = viseme(label)
        if base_label(label) in BILABIALS:
            closure[sel] = 1.0
    track = _smooth(track, sigma_s)
    closure = np.clip(_smooth(closure, BILABIAL_RAMP_S) * 1.5, 0, 1)
    track[:, 0] *= 1 - closure[:, 0]
    frames = track.reshape(n_frames, per_frame, -1)
    q = per_frame // 4
    return frames[:, q:per_frame - q].mean(1).astype(np.float32)


def frame_labels(phones: Sequence, n_frames: int, fps: float = 25.0) -> list[str]:
    """Base phone label at each frame centre ("" where no phone covers it)."""
    out = [""] * n_frames
    items = [_phone_fields(p) for p in phones]
    for i in range(n_frames):
        tc = (i + 0.5) / fps
        for label, start, end in items:
            if start <= tc < end:
                out[i] = base_label(label)
                break
    return out

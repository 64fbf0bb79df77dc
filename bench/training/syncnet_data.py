"""Training clips for the embedded-track SyncNet: rendered faces with phone-driven audio.

Faces come from the embedded talking-face renderer (train-split identities only); the mouth
follows timed phones through the renderer's viseme table. The audio is a source-filter
synthesis from the same phones: formants follow the mouth opening, spread and rounding,
fricatives are shaped noise, closures are silent. Audio and video therefore share one timeline,
which is all that a sync model needs to learn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.datasets.talking_face.build import IDENTITY_SPLITS, stable_seed
from bench.datasets.talking_face.render import make_identity, motion_params, render_clip
from bench.datasets.talking_face.render.visemes import VOWELS, frame_labels, mouth_track

__all__ = ["TrainClip", "make_clip", "random_phones", "synth_audio", "train_identity_ids"]

SR = 16000
CONSONANTS = ("P", "B", "M", "F", "V", "TH", "DH", "T", "D", "N", "L", "S", "Z", "SH", "CH",
              "JH", "K", "G", "NG", "HH", "R", "W", "Y")
_VOWELS = tuple(sorted(VOWELS))
_NOISE = {"S": 0.5, "Z": 0.35, "SH": 0.5, "ZH": 0.35, "F": 0.3, "V": 0.2, "TH": 0.25, "DH": 0.2,
          "HH": 0.3, "CH": 0.45, "JH": 0.35, "T": 0.3, "D": 0.2, "K": 0.3, "G": 0.2, "P": 0.25,
          "B": 0.15}
_VOICED = {"M": 0.3, "N": 0.3, "NG": 0.3, "L": 0.45, "R": 0.45, "W": 0.4, "Y": 0.45, "Z": 0.2,
           "ZH": 0.2, "V": 0.2, "DH": 0.2, "JH": 0.15, "B": 0.1, "D": 0.1, "G": 0.1}


@dataclass
class TrainClip:
    """One training clip: frames uint8 RGB (T,128,128,3) at 25 fps and int16 audio at 16 kHz."""

    frames: np.ndarray
    audio: np.ndarray
    identity: str


def train_identity_ids() -> list[str]:
    """Identity ids of the embedded dataset's train split (the first block of identities)."""
    return [f"face{k:02d}" for k in range(IDENTITY_SPLITS["train"])]


def random_phones(duration: float, rng: np.random.Generator) -> list[tuple[str, float, float]]:
    """Syllable-like timed phones (consonant-vowel-consonant with pauses) covering ``duration``."""
    phones, t = [], float(rng.uniform(0.0, 0.3))
    while t < duration:
        for _ in range(int(rng.integers(1, 4))):  # syllables in a word
            if rng.random() < 0.7:
                d = rng.uniform(0.05, 0.11)
                phones.append((str(rng.choice(CONSONANTS)), t, t + d)); t += d
            d = rng.uniform(0.08, 0.22)
            phones.append((str(rng.choice(_VOWELS)), t, t + d)); t += d
            if rng.random() < 0.3:
                d = rng.uniform(0.05, 0.1)
                phones.append((str(rng.choice(CONSONANTS)), t, t + d)); t += d
        t += float(rng.uniform(0.1, 0.5)) if rng.random() < 0.5 else 0.0
    return phones


def synth_audio(phones: list[tuple[str, float, float]], n_samples: int,
                rng: np.random.Generator, f0: float = 140.0) -> np.ndarray:
    """Float audio in [-1, 1] whose formants and noise follow the phones' mouth shapes."""
    rate = 200.0  # control rate of the mouth track (Hz)
    n_ctrl = int(np.ceil(n_samples / SR * rate)) + 1
    mouth = mouth_track(phones, n_ctrl, rate)  # open, width, round, teeth, tongue
    labels = frame_labels(phones, n_ctrl, rate)
    voiced = np.array([1.0 if lab in VOWELS else _VOICED.get(lab, 0.0) for lab in labels])
    noise = np.array([_NOISE.get(lab, 0.0) for lab in labels])
    k = np.exp(-0.5 * (np.arange(-4, 5) / 2.0) ** 2); k /= k.sum()  # 10 ms smoothing
    voiced, noise = np.convolve(voiced, k, "same"), np.convolve(noise, k, "same")
    tc = np.arange(n_ctrl) / rate
    t = np.arange(n_samples) / SR
    at = lambda x: np.interp(t, tc, x)
    f1 = at(250 + 650 * mouth[:, 0])
    f2 = at(800 + 1500 * mouth[:, 1] - 500 * mouth[:, 2])
    pitch = f0 * (1 + 0.08 * np.sin(2 * np.pi * 0.5 * t + rng.uniform(0, 6.3)))
    phase = 2 * np.pi * np.cumsum(pitch) / SR
    out = np.zeros(n_samples)
    for h in range(1, 40):
        fh = h * pitch
        amp = 1 / (1 + ((fh - f1) / 90) ** 2) + 0.6 / (1 + ((fh - f2) / 120) ** 2) \
            + 0.2 / (1 + ((fh - 2600) / 200) ** 2)
        out += np.where(fh < 7500, amp, 0.0) * np.sin(h * phase)
    hiss = np.diff(rng.standard_normal(n_samples + 1))  # first difference: high-frequency noise
    out = at(voiced) * out * (0.4 + 0.6 * at(mouth[:, 0])) + at(noise) * hiss * 0.8
    out += 0.003 * rng.standard_normal(n_samples)
    return (0.5 * out / max(1e-9, np.abs(out).max())).astype(np.float32)


def make_clip(seed: int, n_frames: int, identity: str) -> TrainClip:
    """Render one clip of ``n_frames`` for ``identity`` with seeded phones, motion and voice."""
    rng = np.random.default_rng(seed)
    n_samples = n_frames * SR // 25
    phones = random_phones(n_frames / 25.0, rng)
    ident = make_identity(identity, stable_seed(f"identity:{identity}:0"))
    frames, _ = render_clip(ident, phones, n_frames, motion_params(seed, n_frames))
    audio = synth_audio(phones, n_samples, rng, f0=float(rng.uniform(95, 230)))
    pcm = np.clip(np.rint(audio * 32768.0), -32768, 32767).astype(np.int16)
    return TrainClip(frames=frames, audio=pcm, identity=identity)


def embedded_clips(split: str, n: int | None, min_frames: int = 40, seed: int = 0) -> list[TrainClip]:
    """Clips of the embedded talking-face dataset's ``split`` (text-to-speech audio), seeded order.

    Only clips with at least ``min_frames`` frames are used; ``n=None`` takes all of them.
    """
    from bench.datasets.talking_face.embedded import load_embedded_talking_faces

    ds = load_embedded_talking_faces()
    ids = [i for i in ds.split(split).ids if ds.clips[i]["n_frames"] >= min_frames]
    order = np.random.default_rng(seed).permutation(len(ids))
    out = []
    for i in order[: n if n is not None else len(ids)]:
        clip = ds.clip(ids[i])
        pcm = np.clip(np.rint(clip.audio * 32768.0), -32768, 32767).astype(np.int16)
        out.append(TrainClip(frames=clip.frames, audio=pcm, identity=clip.identity))
    return out

"""Face identities: the parameters that make one rendered person look different from another."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

# Palettes (RGB). Sampling from palettes with a small jitter keeps faces plausible.
SKIN_TONES = [(255, 224, 196), (241, 194, 160), (224, 172, 132), (198, 140, 100),
              (160, 106, 72), (120, 78, 52), (92, 60, 42), (234, 200, 170)]
HAIR_COLOURS = [(28, 22, 20), (70, 45, 30), (120, 80, 45), (190, 150, 90), (150, 60, 30),
                (200, 200, 195), (60, 60, 62), (230, 205, 140)]
EYE_COLOURS = [(60, 40, 25), (90, 60, 30), (50, 90, 140), (70, 110, 70), (110, 110, 120)]
LIP_COLOURS = [(190, 90, 90), (170, 80, 85), (150, 70, 70), (200, 110, 115), (130, 65, 60),
               (185, 100, 95)]
CLOTH_COLOURS = [(40, 60, 120), (160, 40, 40), (40, 110, 70), (220, 220, 215), (30, 30, 35),
                 (200, 150, 40), (110, 60, 130), (90, 140, 170), (140, 100, 70)]
BG_COLOURS = [(70, 90, 120), (200, 200, 190), (120, 150, 110), (160, 120, 90), (60, 60, 70),
              (180, 170, 200), (100, 140, 150), (210, 180, 140), (140, 80, 80)]

N_HAIR_STYLES = 5  # short, fringe, side part, long, bun
N_BG_PATTERNS = 5  # plain, stripes, dots, diagonal, blotches
N_NECKLINES = 3  # round, V, collar


@dataclass(frozen=True)
class Identity:
    """One synthetic person. Lengths are pixels of the 128x128 frame."""

    id: str
    cx: float
    cy: float
    face_w: float
    face_up: float
    face_low: float
    chin: float
    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    hair_style: int
    eye_colour: tuple[int, int, int]
    eye_dx: float
    eye_y: float
    eye_w: float
    eye_h: float
    brow_thick: float
    brow_tilt: float
    brow_gap: float
    nose_len: float
    nose_w: float
    mouth_y: float
    mouth_w: float
    lip_thick: float
    lip_colour: tuple[int, int, int]
    cloth: tuple[int, int, int]
    neckline: int
    bg1: tuple[int, int, int]
    bg2: tuple[int, int, int]
    bg_pattern: int
    glasses: bool
    texture_seed: int

    def to_dict(self) -> dict:
        """JSON-able parameters (tuples become lists)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "Identity":
        """Inverse of :meth:`to_dict`."""
        kw = {}
        for f in fields(cls):
            v = d[f.name]
            kw[f.name] = tuple(int(x) for x in v) if isinstance(v, list) else v
        return cls(**kw)


def _jitter(rng: np.random.Generator, colour, amount: int = 12) -> tuple[int, int, int]:
    c = np.asarray(colour) + rng.integers(-amount, amount + 1, 3)
    return tuple(int(x) for x in np.clip(c, 0, 255))


def make_identity(identity_id: str, seed: int) -> Identity:
    """Sample a person from ``seed``; ``index``-based palette choice spreads colours over ids."""
    rng = np.random.default_rng(seed)
    pick = lambda pal: pal[int(rng.integers(len(pal)))]  # noqa: E731
    bg1 = pick(BG_COLOURS)
    bg2 = tuple(int(x) for x in np.clip(np.asarray(bg1) * rng.uniform(0.6, 0.9), 0, 255))
    return Identity(
        id=identity_id,
        cx=float(64 + rng.uniform(-4, 4)),
        cy=float(50 + rng.uniform(-2, 2)),
        face_w=float(rng.uniform(20.5, 26.0)),
        face_up=float(rng.uniform(24.0, 29.0)),
        face_low=float(rng.uniform(27.0, 33.0)),
        chin=float(rng.uniform(1.6, 2.8)),
        skin=_jitter(rng, pick(SKIN_TONES)),
        hair=_jitter(rng, pick(HAIR_COLOURS), 10),
        hair_style=int(rng.integers(N_HAIR_STYLES)),
        eye_colour=_jitter(rng, pick(EYE_COLOURS), 10),
        eye_dx=float(rng.uniform(8.5, 11.0)),
        eye_y=float(rng.uniform(-5.0, -1.5)),
        eye_w=float(rng.uniform(4.0, 5.4)),
        eye_h=float(rng.uniform(2.2, 3.2)),
        brow_thick=float(rng.uniform(1.0, 2.3)),
        brow_tilt=float(rng.uniform(-0.25, 0.25)),
        brow_gap=float(rng.uniform(4.0, 6.5)),
        nose_len=float(rng.uniform(8.0, 12.0)),
        nose_w=float(rng.uniform(2.8, 4.8)),
        mouth_y=float(rng.uniform(15.0, 18.5)),
        mouth_w=float(rng.uniform(7.0, 9.5)),
        lip_thick=float(rng.uniform(1.6, 3.0)),
        lip_colour=_jitter(rng, pick(LIP_COLOURS), 10),
        cloth=_jitter(rng, pick(CLOTH_COLOURS), 15),
        neckline=int(rng.integers(N_NECKLINES)),
        bg1=_jitter(rng, bg1, 15),
        bg2=bg2,
        bg_pattern=int(rng.integers(N_BG_PATTERNS)),
        glasses=bool(rng.random() < 0.25),
        texture_seed=int(rng.integers(2**31 - 1)),
    )

"""Draw one frame of a synthetic person with OpenCV: background, torso, head, eyes, mouth.

Everything is drawn anti-aliased on a 2x canvas and downsampled with area averaging. The head
is drawn in face-local coordinates and moved by a per-frame similarity transform (head motion);
the torso and background stay fixed, so pasting a generated face back is a real problem.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from .identity import Identity

SIZE = 128
SCALE = 2
_SHIFT = 3  # fractional bits for cv2 polygon coordinates
_FIX = float(SCALE * (1 << _SHIFT))
HEAD_SCALE = 1.3  # face-local units -> frame pixels


def _shade(colour, f: float) -> tuple[int, int, int]:
    return tuple(int(min(max(c * f, 0), 255)) for c in colour)


def _mix(a, b, t: float) -> tuple[int, int, int]:
    return tuple(int(round(x * (1 - t) + y * t)) for x, y in zip(a, b))


@lru_cache(maxsize=64)
def _unit_arc(n: int, a0: float, a1: float) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(a0, a1, n, endpoint=False if a1 - a0 >= 2 * np.pi else True)
    return np.cos(t), np.sin(t)


def _ellipse_pts(cx: float, cy: float, ax: float, ay: float, n: int = 48,
                 a0: float = 0.0, a1: float = 2 * np.pi) -> np.ndarray:
    c, s = _unit_arc(n, a0, a1)
    return np.stack([cx + ax * c, cy + ay * s], 1)


def _poly(img: np.ndarray, pts: np.ndarray, colour) -> None:
    p = np.round(pts * _FIX).astype(np.int32)
    cv2.fillPoly(img, [p], colour, cv2.LINE_AA, _SHIFT)


def _line(img: np.ndarray, pts: np.ndarray, colour, thick: float) -> None:
    p = np.round(pts * _FIX).astype(np.int32)
    cv2.polylines(img, [p], False, colour, max(1, int(round(thick * SCALE))), cv2.LINE_AA, _SHIFT)


def static_layer(ident: Identity) -> np.ndarray:
    """Background and torso on the 2x canvas: drawn once per clip, they do not move."""
    s = SIZE * SCALE
    rng = np.random.default_rng(ident.texture_seed)
    y = np.linspace(0, 1, s, dtype=np.float32)[:, None, None]
    img = (np.asarray(ident.bg1, np.float32) * (1 - y) + np.asarray(ident.bg2, np.float32) * y)
    img = np.broadcast_to(img, (s, s, 3)).copy()
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
    p = ident.bg_pattern
    if p == 1:
        img *= (1 + 0.08 * np.sign(np.sin(xx / s * 2 * np.pi * 9)))[..., None]
    elif p == 2:
        dots = (np.sin(xx / s * 2 * np.pi * 12) * np.sin(yy / s * 2 * np.pi * 12)) > 0.7
        img *= (1 - 0.12 * dots)[..., None]
    elif p == 3:
        img *= (1 + 0.07 * np.sin((xx + yy) / s * 2 * np.pi * 7))[..., None]
    elif p == 4:
        low = cv2.resize(rng.normal(0, 1, (6, 6)).astype(np.float32), (s, s),
                         interpolation=cv2.INTER_CUBIC)
        img *= (1 + 0.1 * low)[..., None]
    img += rng.normal(0, 2.5, img.shape).astype(np.float32)  # grain
    img = np.clip(img, 0, 255).astype(np.uint8)

    cx, cy = ident.cx, ident.cy
    neck_w = ident.face_w * 0.52 * HEAD_SCALE
    neck_top = cy + ident.face_low * 0.5 * HEAD_SCALE
    sh_y = cy + ident.face_low * HEAD_SCALE + 11
    _poly(img, np.array([[cx - neck_w, neck_top], [cx + neck_w, neck_top],
                         [cx + neck_w + 1, sh_y + 4], [cx - neck_w - 1, sh_y + 4]]),
          _shade(ident.skin, 0.82))
    # shoulders: a rounded trapezoid reaching the frame bottom
    left = np.array([[cx - neck_w - 3, sh_y - 2], [cx - 40, sh_y + 3], [cx - 54, sh_y + 12],
                     [cx - 62, SIZE + 2]])
    right = left[::-1] * [-1, 1] + [2 * cx, 0]
    body = np.concatenate([left, right])
    _poly(img, body, ident.cloth)
    dark = _shade(ident.cloth, 0.7)
    if ident.neckline == 0:
        _poly(img, _ellipse_pts(cx, sh_y - 2, neck_w + 1, 6, 24, 0, np.pi), _shade(ident.skin, 0.82))
        _line(img, _ellipse_pts(cx, sh_y - 2, neck_w + 1, 6, 24, 0, np.pi), dark, 1.2)
    elif ident.neckline == 1:
        v = np.array([[cx - neck_w - 1, sh_y - 2], [cx, sh_y + 14], [cx + neck_w + 1, sh_y - 2]])
        _poly(img, v, _shade(ident.skin, 0.85))
        _line(img, v, dark, 1.2)
    else:
        for sgn in (-1, 1):
            _poly(img, np.array([[cx, sh_y + 8], [cx + sgn * (neck_w + 4), sh_y - 3],
                                 [cx + sgn * (neck_w + 7), sh_y + 6]]), (235, 235, 230))
        _line(img, np.array([[cx, sh_y + 8], [cx, SIZE + 1]]), dark, 1.0)
    return img


def face_contour(ident: Identity, jaw_open: float, n: int = 64) -> np.ndarray:
    """Face outline in face-local coordinates (origin at the face centre), jaw lowered by speech."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    c, s = np.cos(t), np.sin(t)
    e = 2.0 / ident.chin
    lower = s > 0  # image y grows downwards
    x = np.where(lower, ident.face_w * np.sign(c) * np.abs(c) ** e, ident.face_w * c)
    low = ident.face_low + 4.5 * jaw_open
    y = np.where(lower, low * np.abs(s) ** e, ident.face_up * s)
    return np.stack([x, y], 1)


def _mouth_shapes(ident: Identity, m: np.ndarray):
    """Cavity top/bottom curves and lip outlines for mouth parameters ``m``."""
    open_, width, rnd = float(m[0]), float(m[1]), float(m[2])
    w = ident.mouth_w * (0.8 + 0.45 * width) * (1 - 0.38 * rnd)
    h = 10.5 * open_
    my = ident.mouth_y + 1.5 * open_
    xs = np.linspace(-1, 1, 21)
    prof = np.sqrt(np.clip(1 - xs**2, 0, 1))
    ix = xs * w * 0.9
    top = my - 0.32 * h * prof
    bot = my + 0.68 * h * prof
    lt = ident.lip_thick * (1 + 0.45 * rnd)
    x = xs * w
    bow = 1 - 0.35 * np.exp(-((xs / 0.18) ** 2))  # cupid's bow dip in the middle
    upper_top = my - 0.32 * h * prof - lt * prof**0.6 * bow - 0.2
    lower_bot = my + 0.68 * h * prof + 1.25 * lt * prof**0.7 + 0.2
    return ix, top, bot, x, upper_top, lower_bot, my


def draw_head(img: np.ndarray, ident: Identity, mouth: np.ndarray, blink: float,
              M: np.ndarray) -> np.ndarray:
    """Draw the head transformed by 2x3 matrix ``M`` (face-local -> frame px); return the contour."""

    def tr(p: np.ndarray) -> np.ndarray:
        return p @ M[:, :2].T + M[:, 2]

    skin, hair = ident.skin, ident.hair
    fw, fu = ident.face_w, ident.face_up
    style = ident.hair_style
    if style == 3:  # long hair behind the head
        back = np.concatenate([_ellipse_pts(0, -3, fw + 5, fu + 6, 32, np.pi, 2 * np.pi),
                               [[fw + 7, ident.face_low + 10], [-fw - 7, ident.face_low + 10]]])
        _poly(img, tr(back), _shade(hair, 0.85))
    if style == 4:  # bun on top
        _poly(img, tr(_ellipse_pts(0, -fu - 6, 8, 6)), hair)
    for sgn in (-1, 1):  # ears
        _poly(img, tr(_ellipse_pts(sgn * (fw - 0.5), 1, 3.2, 6)), _shade(skin, 0.9))
    contour = face_contour(ident, float(mouth[0]))
    _poly(img, tr(contour), skin)
    for sgn in (-1, 1):  # cheek tint
        _poly(img, tr(_ellipse_pts(sgn * fw * 0.58, 9, 4.5, 3)), _mix(skin, ident.lip_colour, 0.15))

    # hair cap with a hairline that depends on the style
    t = np.linspace(np.pi, 2 * np.pi, 25)
    outer = np.stack([(fw + 1.8) * np.cos(t), -1 + (fu + 3.5) * np.sin(t)], 1)
    tb = t[::-1]
    if style == 1:  # fringe
        line_y = np.full_like(tb, -fu * 0.42)
    elif style == 2 or style == 3:  # side part
        line_y = -fu * (0.55 + 0.22 * np.cos(tb))
    else:
        line_y = -fu * 0.62 - 2.5 * np.sin(tb + np.pi)  # receding at the temples
    inner_x = fw * 1.02 * np.cos(tb)
    inner = np.stack([inner_x, np.minimum(line_y, -1.0)], 1)
    inner[:, 1] = np.maximum(inner[:, 1], -fu * 1.1)
    _poly(img, tr(np.concatenate([outer, inner])), hair)

    # brows
    for sgn in (-1, 1):
        bx = sgn * ident.eye_dx
        by = ident.eye_y - ident.eye_h - ident.brow_gap
        pts = np.array([[bx - sgn * 4.5, by + 0.6 + ident.brow_tilt * 3],
                        [bx, by - 0.8], [bx + sgn * 5.0, by + 0.8 - ident.brow_tilt * 3]])
        _line(img, tr(pts), _shade(hair, 0.75), ident.brow_thick)

    # eyes with blinks
    opening = max(0.0, 1.0 - blink)
    for sgn in (-1, 1):
        ex, ey = sgn * ident.eye_dx, ident.eye_y
        if opening > 0.15:
            eh = ident.eye_h * opening
            _poly(img, tr(_ellipse_pts(ex, ey, ident.eye_w, eh, 32)), (245, 243, 238))
            r = min(ident.eye_h * 0.95, ident.eye_w * 0.6)
            _poly(img, tr(_ellipse_pts(ex, ey, r, min(r, eh), 24)), ident.eye_colour)
            _poly(img, tr(_ellipse_pts(ex, ey, r * 0.45, min(r * 0.45, eh), 16)), (15, 12, 12))
            _poly(img, tr(_ellipse_pts(ex + r * 0.3, ey - r * 0.3, 0.5, 0.5, 8)), (250, 250, 250))
        lid = _ellipse_pts(ex, ey, ident.eye_w, ident.eye_h * opening, 17, np.pi, 2 * np.pi)
        _line(img, tr(lid), _shade(skin, 0.35), 0.9)
        if ident.glasses:
            _line(img, tr(_ellipse_pts(ex, ey, 6.8, 5.2, 32, 0, 2 * np.pi + 0.2)), (30, 30, 35), 0.9)
    if ident.glasses:
        _line(img, tr(np.array([[-ident.eye_dx + 6.8, ident.eye_y], [ident.eye_dx - 6.8, ident.eye_y]])),
              (30, 30, 35), 0.9)

    # nose
    nl, nw = ident.nose_len, ident.nose_w
    ny = ident.eye_y
    _line(img, tr(np.array([[0.8, ny + 1], [1.6, ny + nl - 1.5], [0.4, ny + nl]])), _shade(skin, 0.75), 0.8)
    _poly(img, tr(_ellipse_pts(0, ny + nl, nw * 0.7, 1.8, 16)), _shade(skin, 0.93))
    for sgn in (-1, 1):
        _poly(img, tr(_ellipse_pts(sgn * nw * 0.45, ny + nl + 0.6, 0.9, 0.55, 10)), _shade(skin, 0.5))

    _draw_mouth(img, ident, mouth, tr)
    return tr(contour)


def _draw_mouth(img: np.ndarray, ident: Identity, m: np.ndarray, tr) -> None:
    ix, top, bot, x, upper_top, lower_bot, my = _mouth_shapes(ident, m)
    teeth, tongue = float(m[3]), float(m[4])
    lip = ident.lip_colour
    _poly(img, tr(np.concatenate([np.stack([x, upper_top], 1),
                                  np.stack([x[::-1], lower_bot[::-1]], 1)])), lip)
    gap = bot - top
    if gap.max() > 0.6:
        _poly(img, tr(np.concatenate([np.stack([ix, top], 1), np.stack([ix[::-1], bot[::-1]], 1)])),
              (60, 20, 25))
        if tongue > 0.05:
            ttop = np.maximum(top, bot - gap * (0.25 + 0.35 * tongue))
            tx = ix * 0.8
            _poly(img, tr(np.concatenate([np.stack([tx, ttop], 1), np.stack([tx[::-1], bot[::-1]], 1)])),
                  (190, 90, 95))
        if teeth > 0.05:
            tbot = np.minimum(bot, top + np.minimum(gap, 2.2 * teeth + 0.4))
            _poly(img, tr(np.concatenate([np.stack([ix * 0.92, top], 1),
                                          np.stack([ix[::-1] * 0.92, tbot[::-1]], 1)])), (238, 236, 228))
        # upper lip redrawn over the cavity edge so the lip line stays crisp
        _poly(img, tr(np.concatenate([np.stack([x, upper_top], 1), np.stack([ix[::-1], top[::-1] + 0.3], 1)])),
              lip)
    else:
        _line(img, tr(np.stack([x * 0.95, np.full_like(x, my)], 1)), _shade(lip, 0.55), 0.7)
    # highlight on the lower lip
    _line(img, tr(np.stack([x[7:14] * 0.6, lower_bot[7:14] - ident.lip_thick * 0.55], 1)),
          _mix(lip, (255, 255, 255), 0.25), 0.6)


def head_matrix(ident: Identity, tx: float, ty: float, angle_deg: float) -> np.ndarray:
    """Face-local -> frame transform: rotate about the chin/neck pivot, then translate."""
    a = np.deg2rad(angle_deg)
    R = HEAD_SCALE * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    pivot_local = np.array([0.0, ident.face_low])
    centre = np.array([ident.cx, ident.cy])
    t = centre + HEAD_SCALE * pivot_local - R @ pivot_local + [tx, ty]
    return np.concatenate([R, t[:, None]], 1)


def render_frame(ident: Identity, static: np.ndarray, mouth: np.ndarray, blink: float,
                 tx: float, ty: float, angle_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """One 128x128 RGB uint8 frame and its face box (x0, y0, x1, y1) in pixels."""
    canvas = static.copy()
    contour = draw_head(canvas, ident, mouth, blink, head_matrix(ident, tx, ty, angle_deg))
    frame = cv2.resize(canvas, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    x0, y0 = np.floor(contour.min(0))
    x1, y1 = np.ceil(contour.max(0))
    box = np.clip(np.array([x0, y0, x1, y1]), 0, SIZE).astype(np.int32)
    return frame, box

"""Face crops, pasting back, the multi-scale region masks and ping-pong frame indexing."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def _box_affine(boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Affine maps from crop coordinates [-1, 1] to frame coordinates (align_corners=False)."""
    x0, y0, x1, y1 = boxes.unbind(dim=1)
    theta = torch.zeros(boxes.shape[0], 2, 3, dtype=boxes.dtype, device=boxes.device)
    theta[:, 0, 0] = (x1 - x0) / width
    theta[:, 0, 2] = (x0 + x1) / width - 1.0
    theta[:, 1, 1] = (y1 - y0) / height
    theta[:, 1, 2] = (y0 + y1) / height - 1.0
    return theta


def check_boxes(boxes: np.ndarray, height: int, width: int) -> None:
    """Raise ValueError unless boxes are finite (T, 4) x0<x1, y0<y1 overlapping the frame."""
    boxes = np.asarray(boxes)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"face boxes must have shape (T, 4), got {boxes.shape}")
    if not np.isfinite(boxes).all():
        raise ValueError("face boxes contain NaN or infinite values")
    x0, y0, x1, y1 = boxes.T
    bad = np.flatnonzero((x1 <= x0) | (y1 <= y0) | (x1 <= 0) | (y1 <= 0) | (x0 >= width)
                         | (y0 >= height))
    if bad.size:
        raise ValueError(f"face box of frame {bad[0]} is empty or outside the "
                         f"{width}x{height} frame: {boxes[bad[0]].tolist()}")


def crop_faces(frames: torch.Tensor, boxes: torch.Tensor, size: int) -> torch.Tensor:
    """Resample each box of (N, C, H, W) frames to a (size x size) crop (bilinear)."""
    n, c, h, w = frames.shape
    theta = _box_affine(boxes.to(frames.dtype), h, w)
    grid = F.affine_grid(theta, [n, c, size, size], align_corners=False)
    return F.grid_sample(frames, grid, mode="bilinear", padding_mode="border", align_corners=False)


def paste_faces(faces: torch.Tensor, boxes: torch.Tensor, height: int, width: int
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Resample (N, C, S, S) crops into their boxes of an (H, W) frame.

    Returns the pasted image (zeros outside the box) and the coverage mask (N, 1, H, W) in [0, 1].
    Differentiable, so the fusion loss reaches the generator.
    """
    n, c = faces.shape[:2]
    theta = _box_affine(boxes.to(faces.dtype), height, width)
    # invert the 2x3 affine (diagonal scale + shift)
    inv = torch.zeros_like(theta)
    inv[:, 0, 0] = 1.0 / theta[:, 0, 0]
    inv[:, 0, 2] = -theta[:, 0, 2] / theta[:, 0, 0]
    inv[:, 1, 1] = 1.0 / theta[:, 1, 1]
    inv[:, 1, 2] = -theta[:, 1, 2] / theta[:, 1, 1]
    grid = F.affine_grid(inv, [n, c, height, width], align_corners=False)
    ones = torch.ones_like(faces[:, :1])
    both = F.grid_sample(torch.cat([faces, ones], 1), grid, mode="bilinear",
                         padding_mode="zeros", align_corners=False)
    return both[:, :c], both[:, c:]


def region_masks(size: int) -> dict[str, torch.Tensor]:
    """Soft masks over a square face crop: ``face``, ``lower`` (face) and ``mouth``, each (1,1,S,S).

    Fixed geometry in crop coordinates (the crop is a face box, mouth in the lower half), blurred
    so that the gated warps have no hard seams.
    """
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    face = (((xx - 0.5) / 0.48) ** 2 + ((yy - 0.5) / 0.5) ** 2 <= 1.0).float()
    lower = face * torch.sigmoid((yy - 0.5) * 40.0)
    mouth = (((xx - 0.5) / 0.26) ** 2 + ((yy - 0.74) / 0.16) ** 2 <= 1.0).float()
    out = {}
    for name, m in (("face", face), ("lower", lower), ("mouth", mouth)):
        m = m[None, None]
        k = max(3, (size // 16) | 1)
        m = F.avg_pool2d(F.pad(m, (k // 2,) * 4, mode="replicate"), k, stride=1)
        out[name] = m.clamp(0.0, 1.0)
    return out


def lower_half_mask(boxes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(N, 1, H, W) mask of the lower half of each face box: the region a method must generate."""
    ys = torch.arange(height, dtype=boxes.dtype, device=boxes.device)[None, :, None] + 0.5
    xs = torch.arange(width, dtype=boxes.dtype, device=boxes.device)[None, None, :] + 0.5
    x0, y0, x1, y1 = (v[:, None, None] for v in boxes.unbind(dim=1))
    ymid = 0.5 * (y0 + y1)
    m = (xs >= x0) & (xs <= x1) & (ys >= ymid) & (ys <= y1)
    return m[:, None].to(boxes.dtype)


def pingpong_indices(n_source: int, n_out: int) -> np.ndarray:
    """Frame indices 0..n-1, n-2..1, 0.. so a short identity video loops without jumps."""
    if n_source < 1:
        raise ValueError("identity video has no frames")
    if n_source == 1:
        return np.zeros(n_out, dtype=np.int64)
    cycle = np.concatenate([np.arange(n_source), np.arange(n_source - 2, 0, -1)])
    return cycle[np.arange(n_out) % len(cycle)]

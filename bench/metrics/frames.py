"""Frame checks and face crops shared by the image metrics (FID, LPIPS, SSIM, PSNR).

Talking-face predictions are ``{"frames": uint8 RGB array (T, H, W, 3)}``. Every problem raises
:class:`bench.interfaces.SampleError` naming the clip, so the harness records it and goes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from bench.interfaces import NotApplicable, SampleError
from bench.samples import Clip

Region = Literal["face", "frame"]
REGIONS = ("face", "frame")
NO_GROUND_TRUTH = "no ground truth under cross-dub"


def check_region(region: str) -> Region:
    """Validate a crop/region option."""
    if region not in REGIONS:
        raise ValueError(f"region must be one of {REGIONS}, got {region!r}")
    return region  # type: ignore[return-value]


def check_frames(frames: Any, clip_id: str, what: str) -> np.ndarray:
    """Return ``frames`` if it is a non-empty uint8 RGB (T, H, W, 3) array; raise SampleError."""
    where = f"clip {clip_id!r}: {what}"
    if not isinstance(frames, np.ndarray):
        raise SampleError(f"{where} must be a numpy array, got {type(frames).__name__}")
    if frames.dtype != np.uint8:
        extra = ""
        if np.issubdtype(frames.dtype, np.floating) and not np.isfinite(frames).all():
            extra = " and contain NaN/inf values"
        raise SampleError(f"{where} must be uint8 RGB 0-255, got dtype {frames.dtype}{extra}")
    if frames.ndim == 3 or (frames.ndim == 4 and frames.shape[-1] == 1):
        raise SampleError(f"{where} are grayscale {frames.shape}; expected RGB (T, H, W, 3)")
    if frames.ndim == 4 and frames.shape[-1] == 4:
        raise SampleError(f"{where} are RGBA {frames.shape}; expected RGB (T, H, W, 3)")
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise SampleError(f"{where} have shape {frames.shape}; expected RGB (T, H, W, 3)")
    if frames.shape[0] == 0:
        raise SampleError(f"{where} are empty (0 frames)")
    return frames


def generated_frames(clip: Clip, prediction: Mapping[str, Any]) -> np.ndarray:
    """The checked generated frames of a prediction."""
    if "frames" not in prediction:
        raise SampleError(f"clip {clip.id!r}: prediction has no 'frames' (keys: {sorted(prediction)})")
    return check_frames(prediction["frames"], clip.id, "generated frames")


def ground_truth_pair(clip: Clip, prediction: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Generated and target frames of equal count and size; SampleError under cross-dub."""
    if clip.target is None:
        raise NotApplicable(f"clip {clip.id!r}: {NO_GROUND_TRUTH}")
    gen = generated_frames(clip, prediction)
    ref = check_frames(clip.target, clip.id, "target frames")
    if gen.shape[0] != ref.shape[0]:
        raise SampleError(
            f"clip {clip.id!r}: {gen.shape[0]} generated frames but {ref.shape[0]} target frames"
        )
    if gen.shape[1:] != ref.shape[1:]:
        raise SampleError(
            f"clip {clip.id!r}: generated frame size {gen.shape[1:3]} differs from target "
            f"{ref.shape[1:3]}"
        )
    return gen, ref


def face_box(clip: Clip, index: int, height: int, width: int) -> tuple[int, int, int, int]:
    """Integer (x0, y0, x1, y1) face box for frame ``index``, clipped to the frame.

    When a video is longer than the box track (cross-dub audio longer than the identity video),
    boxes repeat cyclically, as Wav2Lip's inference loops the identity frames.
    """
    boxes = np.asarray(clip.face_boxes, dtype=np.float64)
    if boxes.ndim != 2 or boxes.shape[1] != 4 or len(boxes) == 0:
        raise SampleError(f"clip {clip.id!r}: face_boxes must be (T, 4), got {boxes.shape}")
    box = boxes[index % len(boxes)]
    if not np.isfinite(box).all():
        raise SampleError(f"clip {clip.id!r}: face box of frame {index} is not finite: {box}")
    x0, y0, x1, y1 = (int(v) for v in np.rint(box))
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise SampleError(f"clip {clip.id!r}: face box of frame {index} is empty: {box.tolist()}")
    return x0, y0, x1, y1


def region_frames(clip: Clip, frames: np.ndarray, region: Region) -> list[np.ndarray]:
    """Frames cropped to the face box (per frame) or left whole; a list since crops vary in size."""
    if region == "frame":
        return list(frames)
    _, h, w, _ = frames.shape
    out = []
    for i, frame in enumerate(frames):
        x0, y0, x1, y1 = face_box(clip, i, h, w)
        out.append(frame[y0:y1, x0:x1])
    return out

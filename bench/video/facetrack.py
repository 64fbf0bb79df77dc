"""Face tracks and 224×224 crops as syncnet_python's ``run_pipeline.py`` (the face-track protocol).

Detections (per frame, boxes ``x0,y0,x1,y1,score``) are linked greedily by IoU > 0.5 with gaps of
at most ``num_failed_det`` frames; tracks longer than ``min_track`` detections whose mean box side
exceeds ``min_face_size`` are kept and their gaps filled linearly. Each crop is a square of side
2.8·s (s = half the box side, median-filtered over 13 frames) reaching 1.8·s below the box centre,
taken from the frame padded with grey 110, resized to 224×224.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.signal import medfilt

__all__ = [
    "CROP_SCALE",
    "IOU_THRESHOLD",
    "MEDIAN_TAPS",
    "PAD_VALUE",
    "HaarDetector",
    "Track",
    "crop_track",
    "face_tracks",
    "iou",
    "link_tracks",
]

IOU_THRESHOLD = 0.5
CROP_SCALE = 0.40
PAD_VALUE = 110
MEDIAN_TAPS = 13

Detector = Callable[[np.ndarray], np.ndarray]


@dataclass
class Track:
    """One face track: consecutive frame indices and a box (x0,y0,x1,y1) per frame."""

    frames: np.ndarray  # (n,) int
    boxes: np.ndarray  # (n, 4) float


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two boxes (x0,y0,x1,y1), as the reference (no +1 pixel)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def link_tracks(detections: Sequence[np.ndarray], min_track: int = 100, num_failed_det: int = 25,
                min_face_size: float = 100, iou_threshold: float = IOU_THRESHOLD) -> list[Track]:
    """Greedy IoU linking of per-frame detections into gap-filled tracks (reference track_shot)."""
    pending = []
    for fi, f in enumerate(detections):
        f = np.asarray(f, dtype=np.float64)
        if f.size and (f.ndim != 2 or f.shape[1] < 4):
            raise ValueError(f"frame {fi}: detections must be (n,5) x0,y0,x1,y1,score, got {f.shape}")
        pending.append([tuple(d[:4]) for d in f.reshape(-1, f.shape[-1] if f.size else 5)])
    tracks: list[Track] = []
    while True:
        track: list[tuple[int, tuple]] = []
        for fi, faces in enumerate(pending):
            for face in list(faces):
                if not track:
                    track.append((fi, face)); faces.remove(face)
                elif fi - track[-1][0] <= num_failed_det:
                    if fi > track[-1][0] and iou(face, track[-1][1]) > iou_threshold:
                        track.append((fi, face)); faces.remove(face)
                        break  # one face per frame joins a track
                else:
                    break
            if track and fi - track[-1][0] > num_failed_det:
                break
        if not track:
            return tracks
        if len(track) > min_track:
            fidx = np.array([t[0] for t in track])
            boxes = np.array([t[1] for t in track])
            full = np.arange(fidx[0], fidx[-1] + 1)
            filled = np.stack([np.interp(full, fidx, boxes[:, j]) for j in range(4)], 1)
            side = max(np.mean(filled[:, 2] - filled[:, 0]), np.mean(filled[:, 3] - filled[:, 1]))
            if side > min_face_size:
                tracks.append(Track(full, filled))


def crop_track(frames_bgr: np.ndarray, track: Track, crop_scale: float = CROP_SCALE,
               size: int = 224) -> np.ndarray:
    """uint8 BGR crops (n,224,224,3) of a track, smoothed and padded as the reference."""
    b = track.boxes
    s = medfilt(np.maximum(b[:, 3] - b[:, 1], b[:, 2] - b[:, 0]) / 2, MEDIAN_TAPS)
    cy = medfilt((b[:, 1] + b[:, 3]) / 2, MEDIAN_TAPS)
    cx = medfilt((b[:, 0] + b[:, 2]) / 2, MEDIAN_TAPS)
    out = np.empty((len(track.frames), size, size, 3), np.uint8)
    for i, fi in enumerate(track.frames):
        bs = s[i]
        pad = int(bs * (1 + 2 * crop_scale))
        img = np.pad(frames_bgr[fi], ((pad, pad), (pad, pad), (0, 0)), constant_values=PAD_VALUE)
        my, mx = cy[i] + pad, cx[i] + pad
        face = img[int(my - bs):int(my + bs * (1 + 2 * crop_scale)),
                   int(mx - bs * (1 + crop_scale)):int(mx + bs * (1 + crop_scale))]
        out[i] = cv2.resize(face, (size, size), interpolation=cv2.INTER_LINEAR)
    return out


def face_tracks(frames_bgr: np.ndarray, detect: Detector, min_track: int = 100,
                num_failed_det: int = 25, min_face_size: float = 100) -> list[tuple[Track, np.ndarray]]:
    """Detect faces in every frame, link tracks and return (track, 224×224 crops) pairs."""
    dets = [np.asarray(detect(f), dtype=np.float64).reshape(-1, 5) for f in frames_bgr]
    tracks = link_tracks(dets, min_track, num_failed_det, min_face_size)
    return [(t, crop_track(frames_bgr, t)) for t in tracks]


class HaarDetector:
    """Weights-free frontal-face detector (OpenCV Haar cascade shipped with opencv-python)."""

    def __init__(self, scale_factor: float = 1.1, min_neighbors: int = 5, min_size: int = 24) -> None:
        path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
        self.cascade = cv2.CascadeClassifier(path)
        if self.cascade.empty():
            raise RuntimeError(f"{path}: OpenCV Haar cascade could not be loaded")
        self.scale_factor, self.min_neighbors, self.min_size = scale_factor, min_neighbors, min_size

    def __call__(self, frame_bgr: np.ndarray) -> np.ndarray:
        """Boxes (n,5) x0,y0,x1,y1,score (score 1.0: the cascade gives no confidence)."""
        gray = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
        found = self.cascade.detectMultiScale(gray, scaleFactor=self.scale_factor,
                                              minNeighbors=self.min_neighbors,
                                              minSize=(self.min_size, self.min_size))
        if len(found) == 0:
            return np.zeros((0, 5))
        x, y, w, h = np.asarray(found, dtype=np.float64).T
        return np.stack([x, y, x + w, y + h, np.ones_like(x)], 1)

"""Adapters for real talking-face corpora: LRS2, HDTF and a plain folder of mp4 files.

Each video is decoded with :mod:`bench.video.io` (25 fps, 16 kHz mono), its face is detected
per frame and linked into one track by :mod:`bench.video.facetrack`, and the result (frames,
face boxes, audio, 96x96 crops) is cached on disk. A bad file raises :class:`SampleError`
naming it when its sample is read; the dataset lists every problem it met in ``problems``.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import cv2
import numpy as np

from bench.datasets.base import LazySplit
from bench.interfaces import SampleError
from bench.samples import Clip
from bench.video.io import MIN_FRAMES, VideoError, read_video

from .cache import cache_root, load_npz, save_npz
from .crops import face_crops

from bench.hashing import sha256_file

log = logging.getLogger(__name__)

Detector = Callable[[np.ndarray], np.ndarray]
CACHE_FORMAT = "1"


class FaceTrackError(SampleError):
    """No single face track covers the clip (no face, or the face is lost mid-clip)."""


def default_detector() -> Detector:
    """The weights-free OpenCV Haar detector of :mod:`bench.video.facetrack`."""
    from bench.video.facetrack import HaarDetector

    return HaarDetector()


def track_face(frames_rgb: np.ndarray, detect: Detector, path: Path | str,
               max_gap: int = 5, min_face_size: float = 24.0) -> np.ndarray:
    """Face box per frame (T, 4) float32 from one track that spans the whole clip.

    Detections are linked with the reference IoU rule (``link_tracks``); gaps of up to
    ``max_gap`` frames are interpolated. A clip whose best track starts late or ends early
    (face lost mid-clip) or has no face at all raises :class:`FaceTrackError` naming ``path``.
    """
    from bench.video.facetrack import link_tracks

    n = len(frames_rgb)
    dets = []
    for f in frames_rgb:
        d = np.asarray(detect(cv2.cvtColor(f, cv2.COLOR_RGB2BGR)), np.float64)
        dets.append(d.reshape(-1, d.shape[-1] if d.size else 5))
    tracks = link_tracks(dets, min_track=0, num_failed_det=max_gap, min_face_size=min_face_size)
    if not tracks:
        raise FaceTrackError(f"{path}: no face found in {n} frames")
    best = max(tracks, key=lambda t: len(t.frames))
    first, last = int(best.frames[0]), int(best.frames[-1])
    if first > max_gap or last < n - 1 - max_gap:
        lost = last + 1 if last < n - 1 - max_gap else first
        raise FaceTrackError(f"{path}: face lost at frame {lost} (longest track covers frames "
                             f"{first}-{last} of {n})")
    boxes = np.empty((n, 4), np.float32)
    boxes[first:last + 1] = best.boxes
    boxes[:first] = best.boxes[0]  # hold the edge box over short undetected runs at the ends
    boxes[last + 1:] = best.boxes[-1]
    h, w = frames_rgb.shape[1:3]
    return np.clip(boxes, 0, [w, h, w, h]).astype(np.float32)


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes (``"missing"`` when it does not exist)."""
    return sha256_file(path) if path.is_file() else "missing"


@dataclass
class Problem:
    """A sample that could not be used, with the file and the reason."""

    sample_id: str
    path: str
    message: str


class RealVideoDataset:
    """Clips decoded from video files, face-tracked, cached; ``split(name)`` is lazy."""

    def __init__(self, name: str, root: Path, split_files: Mapping[str, Sequence[tuple[str, Path]]],
                 detector: Detector | None = None, cache_dir: str | Path | None = None,
                 version: str = "1", max_gap: int = 5, min_face_size: float = 24.0) -> None:
        self.name, self.version, self.root = name, version, Path(root)
        self.split_files = {k: list(v) for k, v in split_files.items()}
        self._detector = detector
        self.cache_dir = cache_root(cache_dir) / name / version
        self.max_gap, self.min_face_size = max_gap, min_face_size
        self.problems: list[Problem] = []
        self.notes: list[str] = []
        self._hashes: dict[Path, str] = {}

    @property
    def detector(self) -> Detector:
        """The face detector (the Haar detector unless one was given)."""
        if self._detector is None:
            self._detector = default_detector()
        return self._detector

    def _detector_name(self) -> str:
        d = self._detector if self._detector is not None else "HaarDetector"
        return getattr(d, "__name__", type(d).__name__) if not isinstance(d, str) else d

    def _hash(self, path: Path) -> str:
        if path not in self._hashes:
            self._hashes[path] = file_sha256(path)
        return self._hashes[path]

    def _record(self, sample_id: str, path: Path, err: Exception) -> None:
        if not any(p.sample_id == sample_id for p in self.problems):
            self.problems.append(Problem(sample_id, str(path), str(err)))
        log.info("%s", err)  # the runner warns once per kind, with the count

    def preprocess(self, sample_id: str, path: Path) -> dict[str, np.ndarray]:
        """Decoded frames, boxes, audio and 96x96 crops of one video, cached by content hash."""
        digest = self._hash(path)
        if digest == "missing":
            raise VideoError(f"{path}: file not found (listed as {sample_id!r})")
        key = hashlib.sha256(f"{CACHE_FORMAT}:{digest}:{self._detector_name()}:{self.max_gap}:"
                             f"{self.min_face_size}".encode()).hexdigest()[:24]
        cache = self.cache_dir / f"{key}.npz"
        keys = ("frames", "boxes", "audio", "crops")
        cached = load_npz(cache, keys)
        if cached is not None:
            return cached
        video = read_video(path)
        if video.meta.get("variable_frame_rate"):
            self.notes.append(f"{path}: variable frame rate, resampled to 25 fps by timestamps")
        sr = video.meta.get("source_sample_rate")
        if sr and (sr != video.sample_rate or video.meta.get("source_channels", 1) != 1):
            self.notes.append(f"{path}: audio {sr} Hz x{video.meta.get('source_channels')} "
                              f"resampled to {video.sample_rate} Hz mono")
        boxes = track_face(video.frames, self.detector, path, self.max_gap, self.min_face_size)
        out = {"frames": video.frames, "boxes": boxes, "audio": video.audio,
               "crops": face_crops(video.frames, boxes)}
        save_npz(cache, **out)
        return out

    def clip(self, sample_id: str, path: Path) -> Clip:
        """Reconstruction clip of one video: its own audio drives it; target = its frames."""
        try:
            data = self.preprocess(sample_id, path)
        except SampleError as e:
            self._record(sample_id, path, e)
            raise
        frames, audio = data["frames"], data["audio"]
        n = min(len(frames), int(len(audio) * 25 // 16000))
        if n < MIN_FRAMES:
            err = VideoError(f"{path}: audio covers only {n} frames; at least {MIN_FRAMES} needed")
            self._record(sample_id, path, err)
            raise err
        return Clip(id=sample_id, frames=frames[:n], face_boxes=data["boxes"][:n],
                    audio=audio[: n * 640], identity=sample_id.split("/")[0], target=frames[:n],
                    meta={"path": str(path), "protocol": "reconstruction"})

    def face_crops(self, split: str, sample_id: str) -> np.ndarray:
        """The cached 96x96 face crops of a sample."""
        path = dict(self.split_files[split])[sample_id]
        return self.preprocess(sample_id, path)["crops"]

    def split(self, name: str) -> LazySplit:
        """A split named in the corpus' file lists; samples load on demand."""
        if name not in self.split_files:
            raise KeyError(f"{self.name}: no split {name!r}; known: {sorted(self.split_files)}")
        items = self.split_files[name]
        for sid, path in items:
            if not path.is_file():
                self._record(sid, path, VideoError(f"{path}: file not found (listed as {sid!r})"))
        return LazySplit(name=name, ids=[sid for sid, _ in items],
                         content_hashes={sid: self._hash(p) for sid, p in items},
                         loaders={sid: (lambda s=sid, p=p: self.clip(s, p)) for sid, p in items},
                         meta={"dataset": self.name, "root": str(self.root)})

    def scan(self, name: str) -> list[Problem]:
        """Preprocess every sample of a split; return the problems (the rest is cached)."""
        split = self.split(name)
        for sid in split.ids:
            try:
                split.get(sid)
            except SampleError:
                pass
        return [p for p in self.problems if p.sample_id in set(split.ids)]


def resolve_root(root: str | Path | None, env: str, name: str) -> Path:
    """The corpus root from the argument or ``env``, with a clear error when unset or absent."""
    value = root if root is not None else os.environ.get(env)
    if not value:
        raise FileNotFoundError(f"{name}: no corpus root; pass root=... or set {env}")
    path = Path(value).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"{name}: corpus root {path} is not a directory (from "
                                f"{'root=' if root is not None else env})")
    return path


def read_filelist(path: Path) -> list[str]:
    """Ids from a filelist: first token per non-empty line (LRS2 lines may carry flags)."""
    ids = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            ids.append(line.split()[0])
    return ids


def load_lrs2(root: str | Path | None = None, detector: Detector | None = None,
              cache_dir: str | Path | None = None, **options: Any) -> RealVideoDataset:
    """LRS2: official ``train.txt``/``val.txt``/``test.txt`` filelists over ``main/<id>.mp4``."""
    base = resolve_root(root, "BENCH_LRS2_ROOT", "lrs2")
    splits = {}
    for split in ("train", "val", "test"):
        lst = base / f"{split}.txt"
        if lst.is_file():
            splits[split] = [(i, base / "main" / f"{i}.mp4") for i in read_filelist(lst)]
    if "test" not in splits:
        raise FileNotFoundError(f"lrs2: {base / 'test.txt'} is missing (the official filelist)")
    return RealVideoDataset("lrs2", base, splits, detector, cache_dir, **options)


def _videos_in(folder: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(folder.glob("*.mp4"))}


def load_hdtf(root: str | Path | None = None, detector: Detector | None = None,
              cache_dir: str | Path | None = None, clip_list: str = "test.txt",
              **options: Any) -> RealVideoDataset:
    """HDTF: clip videos in ``root`` (or ``root/videos``); the test split is ``clip_list``.

    Each line of the clip list names a clip (file name with or without ``.mp4``); without the
    list every video in the folder forms the test split.
    """
    base = resolve_root(root, "BENCH_HDTF_ROOT", "hdtf")
    folder = base / "videos" if (base / "videos").is_dir() else base
    lst = base / clip_list
    if lst.is_file():
        names = [n[:-4] if n.endswith(".mp4") else n for n in read_filelist(lst)]
        items = [(n, folder / f"{n}.mp4") for n in names]
    else:
        items = list(_videos_in(folder).items())
        if not items:
            raise FileNotFoundError(f"hdtf: no {clip_list} and no .mp4 files in {folder}")
    return RealVideoDataset("hdtf", base, {"test": items}, detector, cache_dir, **options)


def load_video_folder(root: str | Path | None = None, detector: Detector | None = None,
                      cache_dir: str | Path | None = None, **options: Any) -> RealVideoDataset:
    """Every ``*.mp4`` directly in a folder, sorted by name, as the ``test`` split."""
    base = resolve_root(root, "BENCH_VIDEO_FOLDER", "video-folder")
    items = list(_videos_in(base).items())
    if not items:
        raise FileNotFoundError(f"video-folder: no .mp4 files in {base}")
    return RealVideoDataset("video-folder", base, {"test": items}, detector, cache_dir, **options)

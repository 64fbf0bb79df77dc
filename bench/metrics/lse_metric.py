"""LSE-C / LSE-D as a dataset metric for the talking-face task, with a recorded protocol.

Protocols:
- ``whole-frame``: every generated frame resized to 224×224, no detection (Wav2Lip's LRS script).
- ``face-track``: syncnet_python's pipeline: 25 fps, face detection, IoU tracks, 1.4× crops;
  each track is scored with its audio span and a clip's value is the mean over its tracks.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench import devices
from bench.hashing import sha256_file
from bench.interfaces import SampleError
from bench.metrics.lse_inputs import SYNC_RATE, prepare_audio, prepare_frames
from bench.metrics.mean_of_samples import MeanOfSamples
from bench.weights import registry

# torch (SyncNet, the scoring) is imported where a clip is scored: a run whose scores are all
# cached builds these metrics only for their fingerprints and never loads it
SAMPLES_PER_FRAME = SYNC_RATE // 25

__all__ = ["EMBEDDED_SYNCNET", "PROTOCOLS", "LseMetric", "SyncScorer", "resolve_weights",
           "shared_scorer"]

EMBEDDED_SYNCNET = Path(__file__).resolve().parents[1] / "data" / "syncnet" / "syncnet_embedded.pt"
PROTOCOLS = ("whole-frame", "face-track")


def resolve_weights(ref: str | os.PathLike[str]) -> Path:
    """Verified path of registry weights (``syncnet-v2``, ``s3fd``, ``syncnet-embedded``) or a file.

    Raises WeightsUnavailable (with the install command) when the file is absent or its checksum
    does not match the registry entry.
    """
    from bench.metrics.lse_weights import SPECS

    ref = str(ref)
    if ref in SPECS:
        return registry.verify(SPECS[ref])
    path = Path(ref).expanduser()
    if not path.is_file():
        from bench.metrics.syncnet import WeightsUnavailable

        raise WeightsUnavailable(f"SyncNet weights file {path} not found; pass a registry name "
                                 f"({', '.join(SPECS)}) or an existing file")
    return path


class SyncScorer:
    """One SyncNet (and detector) for a protocol, shared by every metric that reads its scores.

    LSE-C and LSE-D are two readings of the same pass: the scorer remembers the last few clips'
    results by content, so the second metric costs nothing, and the audio stream's embeddings by
    audio content, so methods scored on the same driving audio share them.
    """

    def __init__(self, protocol: str, weights: str, vshift: int, detector: str,
                 track_opts: Mapping[str, Any], batch_size: int, device: str = "cpu") -> None:
        from bench.metrics.syncnet import load_syncnet
        from bench.metrics.syncnet_infer import FrozenSyncNet

        self.protocol, self.vshift, self.batch_size = protocol, int(vshift), int(batch_size)
        self.weights_path = resolve_weights(weights)
        self.weights_name = str(weights)
        self.weights_sha256 = sha256_file(self.weights_path)
        model = load_syncnet(self.weights_path)
        self.width = model.width
        self.device = device
        self.net = FrozenSyncNet(model, device)
        self.track_opts = dict(track_opts)
        self.detector_name = detector
        self.detector: Any = None
        self.detector_sha256: str | None = None
        if protocol == "face-track":
            self.detector = self._make_detector(detector)
        self._results: OrderedDict[str, Mapping[str, Any]] = OrderedDict()
        self.audio_cache: OrderedDict[Any, Any] = OrderedDict()
        self.passes = 0  # SyncNet passes run (tests and benchmarks read it)

    def _make_detector(self, name: str) -> Any:
        from bench.video.facetrack import HaarDetector
        from bench.metrics.s3fd import load_s3fd

        if name == "haar":
            return HaarDetector()
        if name == "s3fd":
            path = resolve_weights("s3fd")
            self.detector_sha256 = sha256_file(path)
            return load_s3fd(path, device=self.device)
        raise ValueError(f"detector must be 's3fd' or 'haar', got {name!r}")

    def score(self, name: str, frames: np.ndarray, audio: np.ndarray, fps: float,
              rate: int) -> Mapping[str, Any]:
        """{"lse_c", "lse_d", "offset", ...} of one clip, computed once per content."""
        key = _content_key(frames, audio, fps, rate)
        if key in self._results:
            self._results.move_to_end(key)
            return self._results[key]
        self.passes += 1
        from bench.metrics.lse import evaluate_sync

        if self.protocol == "whole-frame":
            r = evaluate_sync(self.net, frames, audio, fps=fps, sample_rate=rate,
                              vshift=self.vshift, resize=True, batch_size=self.batch_size,
                              name=name, audio_cache=self.audio_cache)
            result: Mapping[str, Any] = {
                "lse_c": r.confidence, "lse_d": r.min_dist, "offset": r.offset,
                "n_windows": int(r.dists.shape[0]), "notes": "; ".join(r.notes)}
        else:
            result = self._face_track(frames, audio, fps, rate, name)
        self._results[key] = result
        while len(self._results) > _MEMO_SIZE:
            self._results.popitem(last=False)
        return result

    def _face_track(self, frames: np.ndarray, audio: np.ndarray, fps: float, rate: int,
                    name: str) -> Mapping[str, Any]:
        from bench.metrics.lse import evaluate_sync
        from bench.video.facetrack import face_tracks

        frames, notes = prepare_frames(frames, fps, resize=None, name=name)
        pcm, anotes = prepare_audio(audio, rate, name=name)
        tracks = face_tracks(frames, self.detector, **self.track_opts)
        if not tracks:
            raise SampleError(f"{name}: no face track (detector {self.detector_name}, "
                              f"min_track {self.track_opts['min_track']}, "
                              f"min_face_size {self.track_opts['min_face_size']})")
        results = []
        for track, crops in tracks:
            f0, f1 = int(track.frames[0]), int(track.frames[-1]) + 1
            span = pcm[f0 * SAMPLES_PER_FRAME:f1 * SAMPLES_PER_FRAME]
            results.append(evaluate_sync(self.net, crops, span, vshift=self.vshift, resize=False,
                                         batch_size=self.batch_size, name=f"{name} track {f0}-{f1}"))
        longest = max(results, key=lambda r: r.n_frames)
        return {"lse_c": float(np.mean([r.confidence for r in results])),
                "lse_d": float(np.mean([r.min_dist for r in results])),
                "offset": longest.offset, "n_tracks": len(results),
                "notes": "; ".join(notes + anotes)}


_MEMO_SIZE = 8
_SCORERS: dict[tuple[Any, ...], SyncScorer] = {}


def _content_key(frames: np.ndarray, audio: np.ndarray, fps: float, rate: int) -> str:
    h = hashlib.blake2b(digest_size=16)
    for arr in (frames, np.asarray(audio)):
        h.update(f"{arr.dtype}{arr.shape}".encode())
        h.update(np.ascontiguousarray(arr).data)
    h.update(f"{fps}/{rate}".encode())
    return h.hexdigest()


def shared_scorer(protocol: str, weights: str, vshift: int, detector: str,
                  track_opts: Mapping[str, Any], batch_size: int,
                  device: str | None = None) -> SyncScorer:
    """The process-wide scorer for these settings (weights identified by their sha256), on
    ``device`` (default: the task's, :func:`bench.devices.current`)."""
    sha = sha256_file(resolve_weights(weights))
    device = device or devices.current()
    key = (protocol, str(weights), sha, int(vshift), detector if protocol == "face-track" else "",
           tuple(sorted(track_opts.items())), int(batch_size), device)
    if key not in _SCORERS:
        _SCORERS[key] = SyncScorer(protocol, weights, vshift, detector, track_opts, batch_size,
                                   device)
    return _SCORERS[key]


def _syncnet_width(weights_sha256: str, load: Any) -> float:
    """The width of the SyncNet in a weights file, by the file's checksum: read from the file
    (``load()``) once, then remembered in the cache directory (``syncnet-width/``)."""
    from bench.feature_cache import JsonDiskCache

    known = JsonDiskCache("syncnet-width", float, float)
    try:
        return known[weights_sha256]
    except KeyError:
        width = float(load())
        known[weights_sha256] = width
        return width


class LseMetric(MeanOfSamples):
    """``per_sample`` -> {"lse_c", "lse_d", "offset", ...}; ``aggregate`` = mean of ``which``.

    LSE-C and LSE-D with the same settings share one :class:`SyncScorer`, so a clip costs one
    SyncNet pass for both.
    """

    def __init__(self, which: str = "lse-c", protocol: str = "whole-frame",
                 weights: str = "syncnet-embedded", vshift: int = 15, detector: str = "s3fd",
                 min_track: int = 100, min_face_size: float = 100, num_failed_det: int = 25,
                 batch_size: int = 32) -> None:
        if which not in ("lse-c", "lse-d"):
            raise ValueError(f"which must be 'lse-c' or 'lse-d', got {which!r}")
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
        if protocol == "face-track" and detector not in ("s3fd", "haar"):
            raise ValueError(f"detector must be 's3fd' or 'haar', got {detector!r}")
        self.which, self.protocol, self.vshift = which, protocol, int(vshift)
        self.key = "lse_c" if which == "lse-c" else "lse_d"
        self.track_opts: dict[str, Any] = {"min_track": int(min_track),
                                           "min_face_size": float(min_face_size),
                                           "num_failed_det": int(num_failed_det)}
        # the device of the task that builds the metric, for the scorer loaded later
        self._settings = (protocol, str(weights), int(vshift), detector, self.track_opts,
                          int(batch_size), devices.current())
        self._scorer: SyncScorer | None = None
        self.weights_name = str(weights)
        self.weights_sha256 = sha256_file(resolve_weights(weights))
        self.detector_name = detector
        if protocol == "face-track":  # the detector's checksum is part of the fingerprint
            self._scorer = shared_scorer(*self._settings)
        self.width = _syncnet_width(self.weights_sha256, lambda: self.scorer.width)

    @property
    def scorer(self) -> SyncScorer:
        """The shared SyncNet scorer, loaded when first needed."""
        if self._scorer is None:
            self._scorer = shared_scorer(*self._settings)
        return self._scorer

    def fingerprint(self) -> Mapping[str, Any]:
        """Everything that changes the number."""
        fp: dict[str, Any] = {
            "metric": self.which, "protocol": self.protocol, "weights": self.weights_name,
            "weights_sha256": self.weights_sha256, "syncnet_width": self.width,
            "vshift": self.vshift, "fps": 25, "fps_rule": "nearest-frame resample to 25 fps",
            "sample_rate": 16000, "audio": "int16 scale (float x32768), python_speech_features mfcc",
            "input": "BGR 0-255, 5-frame / 20-MFCC windows, min_length-5 windows",
            "pairwise_eps": 1e-6, "aggregate": "mean over clips",
        }
        if self.protocol == "whole-frame":
            fp["crop"] = "whole frame, bilinear resize to 224x224"
        else:
            fp.update({"crop": "run_pipeline: median-13 smoothed box, 2.8*s square (crop_scale 0.4), "
                               "grey 110 padding, bilinear 224x224, no re-encode",
                       "detector": self.detector_name,
                       "detector_sha256": self.scorer.detector_sha256,
                       "scene_detection": "none (single-shot clips)",
                       "track_aggregate": "mean over tracks within a clip", **self.track_opts})
        return fp

    def per_sample(self, sample: Any, prediction: Mapping[str, Any]) -> Mapping[str, Any]:
        """Score one generated clip: prediction["frames"] uint8 RGB (T,H,W,3), sample.audio float."""
        name = str(getattr(sample, "id", "clip"))
        if "frames" not in prediction:
            raise SampleError(f"{name}: prediction has no 'frames'")
        frames = np.asarray(prediction["frames"])
        if frames.ndim == 4 and frames.shape[-1] in (3, 4):
            frames = frames[..., [2, 1, 0] + ([3] if frames.shape[-1] == 4 else [])]  # RGB(A) -> BGR(A)
        return dict(self.scorer.score(name, frames, sample.audio, float(sample.fps),
                                      int(sample.sample_rate)))

    def aggregate(self, values: Sequence[Mapping[str, Any]]) -> float:
        """Unweighted mean of the chosen score over clips."""
        if not values:
            raise ValueError(f"{self.which}: no scored samples to aggregate")
        return float(np.mean([v[self.key] for v in values]))


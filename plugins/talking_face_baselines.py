"""Simple talking-face baselines that bracket the learned methods, as bench methods.

- ``static-reference``: the identity frames unchanged (perfect identity, no lip sync);
- ``audio-energy-mouth``: darkens an ellipse in the mouth region in proportion to the audio's
  per-frame loudness (sync from energy alone, nothing learned);
- ``ground-truth``: the real frames, where the protocol has them.

The first two are implemented in :mod:`reference_models.talking_face_baselines`; this module
checks each clip before handing it over and registers the three methods.
"""

from __future__ import annotations

import numpy as np

import bench
from bench.interfaces import NotApplicable, SampleError
from bench.samples import Clip, check_clip
from bench.specs import MethodSpec
from reference_models.talking_face_baselines import baselines


class StaticReference(baselines.StaticReference):
    """:class:`reference_models.talking_face_baselines.StaticReference` on checked clips."""

    def generate(self, clip: Clip) -> np.ndarray:
        check_clip(clip)
        return super().generate(clip)


class AudioEnergyMouth(baselines.AudioEnergyMouth):
    """:class:`reference_models.talking_face_baselines.AudioEnergyMouth` on checked clips."""

    def generate(self, clip: Clip) -> np.ndarray:
        check_clip(clip)
        return super().generate(clip)


class GroundTruth:
    """The real target frames (reconstruction only); cross-dub clips have none."""

    def generate(self, clip: Clip) -> np.ndarray:
        """``clip.target`` cut to ``n_output_frames``; SampleError when there is no ground truth."""
        if clip.target is None:
            raise NotApplicable(f"clip {clip.id!r}: no ground-truth frames (cross-dub has none)")
        target = np.asarray(clip.target)
        n = clip.n_output_frames
        if target.ndim != 4 or target.dtype != np.uint8 or target.shape[1:] != clip.frames.shape[1:]:
            raise SampleError(
                f"clip {clip.id!r}: target must be uint8 (T, H, W, 3) like the frames "
                f"{clip.frames.shape[1:]}, got {target.dtype} {target.shape}"
            )
        if len(target) < n:
            raise SampleError(f"clip {clip.id!r}: target has {len(target)} frames, the audio covers {n}")
        return target[:n].copy()


@bench.hookimpl
def bench_register_methods(register) -> None:
    """Register the three baselines for the talking-face task."""
    base = "plugins.talking_face_baselines:"
    register(MethodSpec(name="static-reference", task="talking-face", version="1.0",
                        factory=base + "StaticReference",
                        description="identity frames unchanged: perfect identity, no lip sync"))
    register(MethodSpec(name="audio-energy-mouth", task="talking-face", version="1.0",
                        factory=base + "AudioEnergyMouth",
                        description="darkens the mouth region in proportion to per-frame audio RMS"))
    register(MethodSpec(name="ground-truth", task="talking-face", version="1.0",
                        factory=base + "GroundTruth",
                        description="the real frames (reconstruction only; cross-dub clips fail)"))

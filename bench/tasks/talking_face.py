"""Talking-face: generate frames for each clip and check them against the contract."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from bench.interfaces import Dataset, SampleError, Split
from bench.samples import Clip


class TalkingFaceRunner:
    shard_size = 4  # clips per task on a cluster: generation and LSE/FID are seconds per clip

    def prepare(self, method: Any, dataset: Dataset, split: Split, seed: int) -> Mapping[str, Any]:
        return {}

    def predict(self, method: Any, sample: Clip) -> Mapping[str, Any]:
        return {"frames": np.asarray(method.generate(sample))}

    def check(self, sample: Clip, prediction: Mapping[str, Any]) -> None:
        frames = prediction["frames"]
        expected = (sample.n_output_frames, *sample.frames.shape[1:3], 3)
        if frames.dtype != np.uint8:
            raise SampleError(f"generated frames have dtype {frames.dtype}, expected uint8")
        if frames.shape != expected:
            raise SampleError(f"generated frames have shape {frames.shape}, expected {expected} "
                              f"({sample.n_output_frames} frames for {len(sample.audio)} audio "
                              f"samples at {sample.fps} fps)")

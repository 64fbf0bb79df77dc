"""Rendering speed of the synthetic talking faces (frames per second), and the video reader.

Run with ``pytest tests/benchmarks/test_bench_talking_face_render.py --benchmark-only``.
There is no reference renderer; the decode benchmark sits beside it for scale.
"""

from __future__ import annotations

import numpy as np
import pytest

from bench.datasets.talking_face.render import make_identity, motion_params, render_clip
from bench.video import read_video, write_video

PHONES = [("SIL", 0, 0.3), ("HH", 0.3, 0.4), ("AH0", 0.4, 0.6), ("L", 0.6, 0.7), ("OW1", 0.7, 1.0),
          ("M", 1.0, 1.1), ("AA1", 1.1, 1.5), ("SIL", 1.5, 2.0)]
N = 50  # 2 s at 25 fps


def test_bench_render_clip(benchmark):
    ident = make_identity("face00", 0)
    params = motion_params(1, N)
    frames, _ = benchmark(render_clip, ident, PHONES, N, params)
    assert frames.shape == (N, 128, 128, 3)
    benchmark.extra_info["frames_per_clip"] = N


@pytest.fixture(scope="module")
def clip_file(tmp_path_factory):
    frames, _ = render_clip(make_identity("face00", 0), PHONES, N, motion_params(1, N))
    audio = np.zeros(N * 640, np.float32)
    return write_video(tmp_path_factory.mktemp("v") / "clip.mp4", frames, 25, audio, 16000)


def test_bench_read_video(benchmark, clip_file):
    video = benchmark(read_video, clip_file)
    assert video.frames.shape == (N, 128, 128, 3)

"""LSE on a 10 s clip (250 frames): vectorised scoring vs the syncnet_python-style loop.

Run: python -m pytest tests/benchmarks/test_bench_lse.py --benchmark-only
Set BENCH_LSE_WIDTH=1.0 to time the full-size SyncNet once.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from bench.metrics.lse import evaluate_sync
from bench.metrics.syncnet_infer import FrozenSyncNet
from tests.test_lse import clip_arrays, random_syncnet, reference_evaluate

WIDTH = float(os.environ.get("BENCH_LSE_WIDTH", "0.25"))
N_FRAMES = 250


@pytest.fixture(scope="module")
def setup():
    torch.set_num_threads(int(os.environ.get("BENCH_LSE_THREADS", "2")))
    model = random_syncnet(WIDTH, seed=0)
    frames, audio = clip_arrays(N_FRAMES, seed=1)
    return model, frames, audio


@pytest.mark.benchmark(group=f"lse-10s-width{WIDTH}")
def test_bench_lse_ours(benchmark, setup):
    model, frames, audio = setup
    net = FrozenSyncNet(model)
    res = benchmark.pedantic(evaluate_sync, args=(net, frames, audio), rounds=2, iterations=1)
    ref = reference_evaluate(model, frames, audio)
    assert res.offset == ref[0]
    np.testing.assert_allclose(res.mdist, ref[4], rtol=1e-5)


@pytest.mark.benchmark(group=f"lse-10s-width{WIDTH}")
def test_bench_lse_reference_loop(benchmark, setup):
    model, frames, audio = setup
    ref = benchmark.pedantic(reference_evaluate, args=(model, frames, audio), rounds=2, iterations=1)
    assert ref[3].shape == (N_FRAMES - 5, 31)


def _clip(frames, audio):
    from bench.samples import Clip

    rgb = np.ascontiguousarray(frames[..., ::-1])
    return Clip(id="bench", frames=rgb, face_boxes=np.zeros((len(rgb), 4)),
                audio=audio.astype(np.float32) / 32768)


@pytest.fixture(scope="module")
def weights_file(setup, tmp_path_factory):
    model = setup[0]
    path = tmp_path_factory.mktemp("w") / "syncnet.pt"
    torch.save({"state_dict": model.state_dict(), "width": WIDTH, "meta": {}}, path)
    return path


@pytest.mark.benchmark(group=f"lse-c+d-10s-width{WIDTH}")
def test_bench_lse_c_and_d_shared_pass(benchmark, setup, weights_file):
    """LSE-C and LSE-D as the harness scores them: one SyncNet pass for both."""
    from bench.metrics import lse_metric

    clip = _clip(setup[1], setup[2])

    def fresh():  # a new scorer each round, so no round reads the previous one's results
        lse_metric._SCORERS.clear()
        c = lse_metric.LseMetric("lse-c", weights=str(weights_file))
        d = lse_metric.LseMetric("lse-d", weights=str(weights_file))
        return (c, d), {}

    def both(c, d):
        return c.per_sample(clip, {"frames": clip.frames}), d.per_sample(clip, {"frames": clip.frames})

    out_c, out_d = benchmark.pedantic(both, setup=fresh, rounds=2, iterations=1)
    assert out_c == out_d


@pytest.mark.benchmark(group=f"lse-c+d-10s-width{WIDTH}")
def test_bench_lse_c_and_d_two_passes(benchmark, setup):
    """What each LSE metric did on its own before: a full SyncNet pass per metric."""
    model, frames, audio = setup
    net = FrozenSyncNet(model)

    def both():
        return evaluate_sync(net, frames, audio), evaluate_sync(net, frames, audio)

    c, d = benchmark.pedantic(both, rounds=2, iterations=1)
    assert c.min_dist == d.min_dist

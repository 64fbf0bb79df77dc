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

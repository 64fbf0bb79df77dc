"""FID feature throughput: our extractor path vs pytorch-fid's InceptionV3, same weights and images.

Run with ``python -m pytest tests/benchmarks/test_bench_fid.py --benchmark-only``; compare the
two rows of the ``fid-features`` group (the target is ours within 10% of pytorch-fid).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision.transforms.functional as TF
from image_fakes import install_fid, make_clip
from pytorch_fid.inception import InceptionV3

from bench.metrics.fid import FidMetric

torch.set_num_threads(1)
N_FRAMES = 8
ROUNDS = 3


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    home = tmp_path_factory.mktemp("torch_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TORCH_HOME", str(home))
        spec, _ = install_fid(home)
        ours = FidMetric(crop="frame", batch_size=N_FRAMES, weights=spec)
        theirs = InceptionV3([3]).eval()
        clip = make_clip("bench", n_frames=N_FRAMES, height=64, width=64)
        yield ours, theirs, clip


@pytest.mark.benchmark(group="fid-features")
def test_bench_ours_uint8_frames_to_stats(benchmark, setup):
    ours, _, clip = setup
    stats = benchmark.pedantic(ours.features, args=(clip, clip.frames), rounds=ROUNDS,
                               iterations=1, warmup_rounds=1)
    assert stats.count == N_FRAMES


@pytest.mark.benchmark(group="fid-features")
def test_bench_pytorch_fid_uint8_frames_to_activations(benchmark, setup):
    _, theirs, clip = setup

    def run():
        # pytorch-fid's path: ToTensor per image, batch, InceptionV3, squeeze, numpy
        batch = torch.stack([TF.to_tensor(f) for f in clip.frames])
        with torch.no_grad():
            return theirs(batch)[0].squeeze(3).squeeze(2).cpu().numpy()

    acts = benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    assert acts.shape == (N_FRAMES, 2048) and np.isfinite(acts).all()

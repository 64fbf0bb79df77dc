"""Frame generation cost of the G4G reconstruction beside Wav2Lip's generator (same input size).

Run with ``python -m pytest tests/benchmarks/test_bench_g4g.py --benchmark-only``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reference_models.g4g.configs import get_config
from reference_models.g4g.generator import mask_lower_half
from reference_models.g4g.model import G4GModel
from reference_models.wav2lip.models import Wav2Lip

BATCH = 16


@pytest.fixture(scope="module")
def inputs():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    return torch.rand(BATCH, 3, 96, 96), torch.randn(BATCH, 1, 80, 16)


@pytest.mark.parametrize("width", [8, 32])
def test_bench_g4g_generate_faces(benchmark, inputs, width):
    faces, mel = inputs
    model = G4GModel(get_config("embedded", width=width)).eval()

    def run():
        with torch.no_grad():
            return model.faces(mask_lower_half(faces), faces, mel)

    assert benchmark(run).shape == (BATCH, 3, 96, 96)


@pytest.mark.parametrize("width", [0.25, 1.0])
def test_bench_wav2lip_generate_faces(benchmark, inputs, width):
    faces, mel = inputs
    model = Wav2Lip(width=width).eval()
    x = torch.cat([mask_lower_half(faces), faces], dim=1)

    def run():
        with torch.no_grad():
            return model(mel, x)

    assert benchmark(run).shape == (BATCH, 3, 96, 96)


@pytest.fixture(scope="module")
def clip_arrays():
    from plugins.g4g import CHECKPOINT_DIR, EMBEDDED_CHECKPOINT
    from reference_models.g4g.model import load_weights

    torch.set_num_threads(1)
    model, _ = load_weights(CHECKPOINT_DIR / EMBEDDED_CHECKPOINT)
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (64, 128, 128, 3), dtype=np.uint8)
    boxes = np.tile(np.array([[24, 16, 104, 112]], np.float32), (64, 1))
    audio = (0.1 * rng.standard_normal(16000 * 64 // 25)).astype(np.float32)
    return model, (frames, boxes, audio, 64)


@pytest.mark.parametrize("batch_size", [1, 8, 32])
def test_bench_g4g_inference_one_clip(benchmark, clip_arrays, batch_size):
    """Whole-clip inference (64 frames, 128 px): frame by frame (1) vs batched (8, 32)."""
    from reference_models.g4g.inference import G4GInference

    model, args = clip_arrays
    out = benchmark(G4GInference(model, batch_size=batch_size).generate, *args)
    assert out.shape == (64, 128, 128, 3)


def _gflop(fn) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops() / 1e9


@pytest.mark.parametrize("what", ["g4g-frames", "large-conv"])
def test_bench_g4g_flop_rate(benchmark, clip_arrays, what):
    """GFLOP/s of G4G's generator + fusion (32 frames, one thread) beside one large 3x3 conv
    (64 -> 64 channels, 32 x 64 x 64): how far the network is from the core's best conv rate,
    which bounds any speed-up that keeps the same operations (identical outputs)."""
    model, _ = clip_arrays
    torch.manual_seed(0)
    if what == "g4g-frames":
        s = model.cfg.face_size
        faces, full = torch.rand(32, 3, s, s), torch.rand(32, 3, 128, 128)
        mels = torch.rand(32, 1, 80, model.cfg.mel_steps)
        boxes = torch.tensor([[24.0, 16.0, 104.0, 112.0]] * 32)

        def run():
            with torch.no_grad():
                return model.fusion(model.faces(mask_lower_half(faces), faces, mels), full, boxes)
    else:
        x, w = torch.rand(32, 64, 64, 64), torch.rand(64, 64, 3, 3)

        def run():
            with torch.no_grad():
                return torch.nn.functional.conv2d(x, w, padding=1)

    gflop = _gflop(run)
    benchmark(run)
    benchmark.extra_info["gflop"] = round(gflop, 2)
    benchmark.extra_info["gflop_per_s_at_min"] = round(gflop / benchmark.stats.stats.min, 1)
    assert gflop > 0

"""Frame generation cost of the G4G reconstruction beside Wav2Lip's generator (same input size).

Run with ``python -m pytest tests/benchmarks/test_bench_g4g.py --benchmark-only``.
"""

from __future__ import annotations

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

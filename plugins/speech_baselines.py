"""Registers the consonant-voicing baselines of TopCap's comparison (reference_models.speech_baselines)."""

from __future__ import annotations

from collections.abc import Callable

import bench
from bench.specs import TORCH_TRAINED, MethodSpec

TASK = "consonant-voicing"
PAPER = "arXiv:2311.15210"
PACKAGE = "reference_models.speech_baselines"

MFCC = {"n_mfcc": 40, "n_fft": 256, "hop_length": 512}

# Every baseline trains at run time; the harness seeds it with the run seed (``seed`` is a
# constructor argument), holds it at one thread and pins the CPU kernel paths, so each committed
# number is recomputed exactly (docs/reproducibility.md).
REPRODUCIBLE = {"threads": 1, "pin_kernels": True}

METHODS = (
    MethodSpec(
        name="mfcc-svm", task=TASK, version="1", factory=f"{PACKAGE}.mfcc_svm:MfccSvm",
        description="MFCC mean/std + delta mean/std, StandardScaler, RBF SVC; C and gamma by 5-fold CV",
        config={"n_mfcc": 20, "n_fft": 256, "hop_length": 128, "n_mels": 40,
                "c_grid": [0.1, 1.0, 10.0, 100.0], "gamma_grid": ["scale", 0.003, 0.03], "cv_folds": 5},
        reference=True, paper=PAPER, **REPRODUCIBLE,
    ),
    MethodSpec(
        name="mfcc-gru", task=TASK, version="1", factory=f"{PACKAGE}.mfcc_gru:MfccGru",
        description="MFCC -> GRU(32) -> BatchNorm -> Linear; Adam, BCE with logits",
        config={**MFCC, "hidden": 32, "epochs": 20, "batch_size": 64, "lr": 1e-4},
        reference=True, paper=PAPER, **REPRODUCIBLE,
    ),
    MethodSpec(
        name="mfcc-transformer", task=TASK, version="1",
        factory=f"{PACKAGE}.mfcc_transformer:MfccTransformer",
        description="MFCC -> 1 Transformer encoder layer (d_model 40, 4 heads, FFN 160) -> masked mean pool",
        config={**MFCC, "heads": 4, "layers": 1, "ffn": 160, "dropout": 0.1,
                "epochs": 20, "batch_size": 64, "lr": 1e-4},
        reference=True, paper=PAPER, **REPRODUCIBLE, tolerance={"*": TORCH_TRAINED},
    ),
    MethodSpec(
        name="stft-cnn-8", task=TASK, version="1", factory=f"{PACKAGE}.stft_cnn:StftCnn",
        description="STFT magnitude (255/128, 16000 samples) resized to 8x8 -> 3-layer CNN",
        config={"size": 8, "epochs": 10, "batch_size": 64, "lr": 1e-3},
        reference=True, paper=PAPER, **REPRODUCIBLE, tolerance={"*": TORCH_TRAINED},
    ),
    MethodSpec(
        name="stft-cnn-16", task=TASK, version="1", factory=f"{PACKAGE}.stft_cnn:StftCnn",
        description="STFT magnitude (255/128, 16000 samples) resized to 16x16 -> 3-layer CNN",
        config={"size": 16, "epochs": 10, "batch_size": 64, "lr": 1e-3},
        reference=True, paper=PAPER, **REPRODUCIBLE, tolerance={"*": TORCH_TRAINED},
    ),
    MethodSpec(
        name="topgru", task=TASK, version="1", factory=f"{PACKAGE}.topgru:TopGru",
        description="MFCC -> GRU(6) -> BatchNorm, joined with the H1 lifetime of a circular delay embedding",
        config={**MFCC, "hidden": 6, "embed_dim": 100, "n_points": 200,
                "epochs": 30, "batch_size": 128, "lr": 1e-3, "n_jobs": 1},
        reference=True, paper=PAPER, **REPRODUCIBLE, tolerance={"*": TORCH_TRAINED},
    ),
)


@bench.hookimpl
def bench_register_methods(register: Callable[[object], None]) -> None:
    """Register the six consonant-voicing baselines."""
    for spec in METHODS:
        register(spec)
